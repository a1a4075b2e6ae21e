select
    student_enrollment_id,
    student_id,
    school_id,
    district_id,
    start_date,
    end_date,
    enrollment_position
from {{ ref('int_clever__student_enrollments') }}
