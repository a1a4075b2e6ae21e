select
    user_role_id,
    user_id,
    role,
    district_id
from {{ ref('int_clever__user_roles') }}
