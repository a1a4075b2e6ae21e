-- Current state of each section: see the clever_current_records macro.
{{ clever_current_records(ref('stg_clever__sections'), ref('int_clever__latest_snapshots')) }}
