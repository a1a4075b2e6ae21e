-- Current state of each course: see the clever_current_records macro.
{{ clever_current_records(ref('stg_clever__courses'), ref('int_clever__latest_snapshots')) }}
