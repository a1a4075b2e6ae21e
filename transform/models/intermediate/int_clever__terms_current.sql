-- Current state of each term: the latest loaded version of every record, less records the
-- loader marked deleted. Events are applied here later (snapshot + newer events, in event-id
-- order), so every mart reads terms through this model, never from staging.
select *
from {{ ref('stg_clever__terms') }}
where deleted_at is null
