{{ config(unique_key='user_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
)

{% call clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'user_id') -%}
select
    user_id,
    district_id,
    email,
    first_name,
    middle_name,
    last_name,
    role_names as roles,
    {{ clever_list_length('role_names') }} as role_count,
    {{ clever_list_contains('role_names', "'student'") }} as is_student,
    {{ clever_list_contains('role_names', "'teacher'") }} as is_teacher,
    {{ clever_list_contains('role_names', "'staff'") }} as is_staff,
    {{ clever_list_contains('role_names', "'contact'") }} as is_contact,
    {{ clever_list_contains('role_names', "'district_admin'") }} as is_district_admin,
    created_at,
    last_modified_at,
    loaded_at
from users
{%- endcall %}
