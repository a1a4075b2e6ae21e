-- Each district's latest completed snapshot: the tap writes a `snapshots` row only once every
-- snapshot stream has read the district without failing. Snapshot ids sort by time. A view:
-- a handful of rows, read by the current-state models.
{{ config(materialized='view') }}

select
    district_id,
    max(snapshot_id) as snapshot_id,
    {{ clever_arg_max('event_cursor', 'snapshot_id') }} as event_cursor,
    max(completed_at) as completed_at,
    -- When that snapshot's record was loaded: newer than a current-state model's last build
    -- means the district was resynced since.
    {{ clever_arg_max('loaded_at', 'snapshot_id') }} as loaded_at
from {{ ref('stg_clever__snapshots') }}
where deleted_at is null
group by district_id
