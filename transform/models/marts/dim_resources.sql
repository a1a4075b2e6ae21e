select
    resource_id,
    district_id,
    title,
    provider_resource_id,
    audience_roles,
    created_at,
    updated_at,
    loaded_at
from {{ ref('int_clever__resources_current') }}
