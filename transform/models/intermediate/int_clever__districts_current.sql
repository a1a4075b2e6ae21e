-- Current state of each district: see the clever_current_records macro.
{{ clever_current_records(ref('stg_clever__districts'), ref('int_clever__latest_snapshots')) }}
