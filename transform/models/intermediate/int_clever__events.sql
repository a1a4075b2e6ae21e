-- Clever events in feed order (event ids grow with time). The loader upserts on the event id,
-- so each event appears once however often the feed was re-read.
select *
from {{ ref('stg_clever__events') }}
where deleted_at is null
