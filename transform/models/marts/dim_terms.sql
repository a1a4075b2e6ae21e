-- One row per term, as it is now: the latest complete snapshot with the events after it
-- applied (the clever_current_records macro), built incrementally.
{{ config(unique_key='term_id') }}

with terms as (
    {{ clever_current_records('terms', 'term_id') }}
)

select
    term_id,
    district_id,
    name,
    start_date,
    end_date,
    loaded_at
from terms
