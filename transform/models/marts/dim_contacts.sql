{{ config(unique_key='contact_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
)

{% call clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'contact_id') -%}
select
    user_id as contact_id,
    district_id,
    first_name,
    middle_name,
    last_name,
    email,
    {{ clever_struct_column('contact', 'phone') }},
    {{ clever_struct_column('contact', 'phone_type') }},
    {{ clever_struct_column('contact', 'sis_id') }},
    {{ clever_struct_column('contact', 'legacy_id') }},
    created_at,
    last_modified_at,
    loaded_at
from users
where contact is not null
{%- endcall %}
