select
    section_teacher_id,
    section_id,
    teacher_id,
    district_id,
    is_primary
from {{ ref('int_clever__section_teachers') }}
