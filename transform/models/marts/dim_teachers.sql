{{ config(unique_key='teacher_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
)

select
    user_id as teacher_id,
    district_id,
    teacher.school_id,
    first_name,
    middle_name,
    last_name,
    email,
    teacher.title,
    teacher.district_username,
    teacher.sis_id,
    teacher.state_id,
    teacher.teacher_number,
    teacher.legacy_id,
    -- The role's own times when Clever sends them, else the user's.
    coalesce(teacher.created_at, created_at) as created_at,
    coalesce(teacher.last_modified_at, last_modified_at) as last_modified_at,
    loaded_at
from users
where teacher is not null
{{ clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'teacher_id') }}
