-- Current state of each resource: the latest loaded version of every record, less records the
-- loader marked deleted. Events are applied here later (snapshot + newer events, in event-id
-- order), so every mart reads resources through this model, never from staging.
select *
from {{ ref('stg_clever__resources') }}
where deleted_at is null
