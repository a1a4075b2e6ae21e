select
    section_student_id,
    section_id,
    student_id,
    district_id
from {{ ref('int_clever__section_students') }}
