select
    user_school_id,
    user_id,
    role,
    school_id,
    district_id,
    is_primary
from {{ ref('int_clever__user_schools') }}
