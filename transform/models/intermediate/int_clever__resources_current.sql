-- Current state of each resource: see the clever_current_records macro.
{{ clever_current_records(ref('stg_clever__resources'), ref('int_clever__latest_snapshots')) }}
