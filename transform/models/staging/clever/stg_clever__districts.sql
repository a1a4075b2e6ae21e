with source as (
    select * from {{ source('clever', 'districts') }}
),

renamed as (
    select
        id as district_id,
        {{ clever_text('name') }} as name,
        {{ clever_text('state') }} as sync_state,
        {{ clever_text('sis_type') }} as sis_type,
        {{ clever_text('nces_id') }} as nces_id,
        {{ clever_text('mdr_number') }} as mdr_number,
        {{ clever_text('portal_url') }} as portal_url,
        {{ clever_text('lms_state') }} as lms_state,
        {{ clever_text('lms_type') }} as lms_type,
        {{ clever_text('error') }} as sync_error,
        {{ clever_text("district_contact ->> 'id'") }} as district_contact_id,
        {{ clever_text("district_contact ->> 'email'") }} as district_contact_email,
        {{ clever_text("district_contact ->> 'title'") }} as district_contact_title,
        {{ clever_text("district_contact -> 'name' ->> 'first'") }} as district_contact_first_name,
        {{ clever_text("district_contact -> 'name' ->> 'last'") }} as district_contact_last_name,
        {{ clever_date('launch_date') }} as launch_date,
        launch_date as launch_date_text,
        cast(last_sync as timestamp) as last_sync_at,
        cast(last_attendance_sync as timestamp) as last_attendance_sync_at,
        cast(pause_start as timestamp) as pause_start_at,
        cast(pause_end as timestamp) as pause_end_at,
        -- The tap's snapshot this version was read in (sortable: the snapshot's start).
        _clever_snapshot_id as snapshot_id,
        _sdc_extracted_at as extracted_at,
        _sdc_batched_at as loaded_at,
        {{ clever_timestamp('_sdc_deleted_at') }} as deleted_at
    from source
)

select * from renamed
