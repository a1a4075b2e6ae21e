with source as (
    select * from {{ source('clever', 'schools') }}
),

renamed as (
    select
        id as school_id,
        district as district_id,
        {{ clever_text('name') }} as name,
        {{ clever_text('low_grade') }} as low_grade,
        {{ clever_text('high_grade') }} as high_grade,
        {{ clever_text('school_number') }} as school_number,
        {{ clever_text('sis_id') }} as sis_id,
        {{ clever_text('state_id') }} as state_id,
        {{ clever_text('nces_id') }} as nces_id,
        {{ clever_text('mdr_number') }} as mdr_number,
        {{ clever_text('phone') }} as phone,
        {{ clever_text("location ->> 'address'") }} as address,
        {{ clever_text("location ->> 'city'") }} as city,
        {{ clever_text("location ->> 'state'") }} as state,
        {{ clever_text("location ->> 'zip'") }} as zip,
        try_cast({{ clever_text("location ->> 'lat'") }} as double) as latitude,
        try_cast({{ clever_text("location ->> 'lon'") }} as double) as longitude,
        {{ clever_text("principal ->> 'name'") }} as principal_name,
        {{ clever_text("principal ->> 'email'") }} as principal_email,
        ext,
        cast(created as timestamp) as created_at,
        cast(last_modified as timestamp) as last_modified_at,
        -- The tap's snapshot this version was read in (sortable: the snapshot's start).
        _clever_snapshot_id as snapshot_id,
        _sdc_extracted_at as extracted_at,
        _sdc_batched_at as loaded_at,
        {{ clever_timestamp('_sdc_deleted_at') }} as deleted_at
    from source
)

select * from renamed
