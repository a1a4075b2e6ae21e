-- Current state of each section: the latest loaded version of every record, less records the
-- loader marked deleted. Events are applied here later (snapshot + newer events, in event-id
-- order), so every mart reads sections through this model, never from staging.
select *
from {{ ref('stg_clever__sections') }}
where deleted_at is null
