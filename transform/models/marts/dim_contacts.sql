{{ config(unique_key='contact_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
)

select
    user_id as contact_id,
    district_id,
    first_name,
    middle_name,
    last_name,
    email,
    contact.phone,
    contact.phone_type,
    contact.sis_id,
    contact.legacy_id,
    created_at,
    last_modified_at,
    loaded_at
from users
where contact is not null
{{ clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'contact_id') }}
