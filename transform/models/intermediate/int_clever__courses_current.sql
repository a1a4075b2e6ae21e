-- Current state of each course: the latest loaded version of every record, less records the
-- loader marked deleted. Events are applied here later (snapshot + newer events, in event-id
-- order), so every mart reads courses through this model, never from staging.
select *
from {{ ref('stg_clever__courses') }}
where deleted_at is null
