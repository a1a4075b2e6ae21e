-- Current state of each school: see the clever_current_records macro.
{{ clever_current_records(ref('stg_clever__schools'), ref('int_clever__latest_snapshots')) }}
