select
    course_id,
    district_id,
    name,
    number,
    loaded_at
from {{ ref('int_clever__courses_current') }}
