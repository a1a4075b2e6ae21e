{{ config(unique_key='district_admin_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
)

{% call clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'district_admin_id') -%}
select
    user_id as district_admin_id,
    district_id,
    first_name,
    middle_name,
    last_name,
    email,
    {{ clever_struct_column('district_admin', 'title') }},
    {{ clever_struct_column('district_admin', 'legacy_id') }},
    created_at,
    last_modified_at,
    loaded_at
from users
where district_admin is not null
{%- endcall %}
