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
from {{ ref('int_clever__districts_current') }}
