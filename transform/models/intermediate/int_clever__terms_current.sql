-- Current state of each term: see the clever_current_records macro.
{{ clever_current_records(ref('stg_clever__terms'), ref('int_clever__latest_snapshots')) }}
