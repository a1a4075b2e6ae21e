-- One row per course, as it is now: the latest complete snapshot with the events after it
-- applied (the clever_current_records macro), built incrementally.
{{ config(unique_key='course_id') }}

with courses as (
    {{ clever_current_records('courses', 'course_id') }}
)

select
    course_id,
    district_id,
    name,
    number,
    loaded_at
from courses
