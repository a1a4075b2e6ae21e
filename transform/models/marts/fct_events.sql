select
    event_id,
    district_id,
    event_type,
    record_type,
    action,
    object_id,
    created_at as created,
    loaded_at
from {{ ref('int_clever__events') }}
