-- One row per school shared with the application, as it is now: the latest complete snapshot
-- with the events after it applied (the clever_current_records macro), built incrementally.
{{ config(unique_key='school_id') }}

with schools as (
    {{ clever_current_records('schools', 'school_id') }}
)

select
    school_id,
    district_id,
    name,
    low_grade,
    high_grade,
    school_number,
    sis_id,
    state_id,
    nces_id,
    mdr_number,
    phone,
    address,
    city,
    state,
    zip,
    latitude,
    longitude,
    principal_name,
    principal_email,
    created_at,
    last_modified_at,
    loaded_at
from schools
