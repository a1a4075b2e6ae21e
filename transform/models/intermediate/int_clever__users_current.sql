-- Current state of each user: see the clever_current_records macro.
{{ clever_current_records(ref('stg_clever__users'), ref('int_clever__latest_snapshots')) }}
