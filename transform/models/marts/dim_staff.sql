{{ config(unique_key='staff_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
)

select
    user_id as staff_id,
    district_id,
    first_name,
    middle_name,
    last_name,
    email,
    staff.title,
    staff.department,
    staff.district_staff_id,
    staff.staff_roles,
    staff.district_username,
    staff.legacy_id,
    created_at,
    last_modified_at,
    loaded_at
from users
where staff is not null
{{ clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'staff_id') }}
