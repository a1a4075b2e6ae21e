select
    teacher_id,
    district_id,
    school_id,
    first_name,
    middle_name,
    last_name,
    email,
    title,
    district_username,
    sis_id,
    state_id,
    teacher_number,
    legacy_id,
    created_at,
    last_modified_at
from {{ ref('int_clever__teachers') }}
