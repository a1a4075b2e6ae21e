{{ config(unique_key='user_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
)

select
    user_id,
    district_id,
    email,
    first_name,
    middle_name,
    last_name,
    role_names as roles,
    len(role_names) as role_count,
    list_contains(role_names, 'student') as is_student,
    list_contains(role_names, 'teacher') as is_teacher,
    list_contains(role_names, 'staff') as is_staff,
    list_contains(role_names, 'contact') as is_contact,
    list_contains(role_names, 'district_admin') as is_district_admin,
    created_at,
    last_modified_at,
    loaded_at
from users
{{ clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'user_id') }}
