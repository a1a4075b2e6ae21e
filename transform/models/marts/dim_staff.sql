select
    staff_id,
    district_id,
    first_name,
    middle_name,
    last_name,
    email,
    title,
    department,
    district_staff_id,
    staff_roles,
    district_username,
    legacy_id,
    created_at,
    last_modified_at
from {{ ref('int_clever__staff') }}
