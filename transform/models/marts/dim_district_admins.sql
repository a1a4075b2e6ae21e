select
    district_admin_id,
    district_id,
    first_name,
    middle_name,
    last_name,
    email,
    title,
    legacy_id,
    created_at,
    last_modified_at
from {{ ref('int_clever__district_admins') }}
