-- One row per learning resource shared with the application, as it is now: the latest
-- complete snapshot with the events after it applied (the clever_current_records macro),
-- built incrementally.
{{ config(unique_key='resource_id') }}

with resources as (
    {{ clever_current_records('resources', 'resource_id') }}
)

select
    resource_id,
    district_id,
    title,
    provider_resource_id,
    audience_roles,
    created_at,
    updated_at,
    loaded_at
from resources
