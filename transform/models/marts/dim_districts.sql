-- One row per district that authorized the application, as it is now: its latest complete
-- snapshot with the events after it applied (the clever_current_records macro), incrementally.
{{ config(unique_key='district_id') }}

with districts as (
    {{ clever_current_records('districts', 'district_id') }}
)

select
    district_id,
    name,
    sis_type,
    sync_state,
    nces_id,
    mdr_number,
    portal_url,
    lms_state,
    lms_type,
    launch_date,
    last_sync_at,
    district_contact_email,
    district_contact_first_name,
    district_contact_last_name,
    district_contact_title,
    loaded_at
from districts
