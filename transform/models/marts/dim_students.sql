{{ config(unique_key='student_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
)

select
    user_id as student_id,
    district_id,
    student.school_id,
    student.grade,
    student.dob,
    student.gender,
    student.ell_status,
    student.gifted_status,
    student.hispanic_ethnicity,
    student.section_504_status,
    student.disability_status,
    student.disability_code,
    student.disability_type,
    student.iep_status,
    student.frl_status,
    student.race,
    student.home_language,
    student.home_language_code,
    student.graduation_year,
    first_name,
    middle_name,
    last_name,
    student.preferred_first_name,
    student.preferred_last_name,
    email,
    student.district_username,
    student.sis_id,
    student.state_id,
    student.student_number,
    student.legacy_id,
    student.city,
    student.state,
    student.zip,
    -- The role's own times when Clever sends them, else the user's.
    coalesce(student.created_at, created_at) as created_at,
    coalesce(student.last_modified_at, last_modified_at) as last_modified_at,
    loaded_at
from users
where student is not null
{{ clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'student_id') }}
