{{ config(unique_key='staff_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
)

{% call clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'staff_id') -%}
select
    user_id as staff_id,
    district_id,
    first_name,
    middle_name,
    last_name,
    email,
    {{ clever_struct_column('staff', 'title') }},
    {{ clever_struct_column('staff', 'department') }},
    {{ clever_struct_column('staff', 'district_staff_id') }},
    {{ clever_struct_column('staff', 'staff_roles') }},
    {{ clever_struct_column('staff', 'district_username') }},
    {{ clever_struct_column('staff', 'legacy_id') }},
    created_at,
    last_modified_at,
    loaded_at
from users
where staff is not null
{%- endcall %}
