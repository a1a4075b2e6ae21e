-- Each district's latest completed snapshot: the tap writes a `snapshots` row only once every
-- snapshot stream has read the district without failing. Snapshot ids sort by time.
select
    district_id,
    max(snapshot_id) as snapshot_id,
    arg_max(event_cursor, snapshot_id) as event_cursor,
    max(completed_at) as completed_at
from {{ ref('stg_clever__snapshots') }}
where deleted_at is null
group by district_id
