select
    contact_id,
    district_id,
    first_name,
    middle_name,
    last_name,
    email,
    phone,
    phone_type,
    sis_id,
    legacy_id,
    created_at,
    last_modified_at
from {{ ref('int_clever__contacts') }}
