with source as (
    select * from {{ source('clever', 'courses') }}
),

renamed as (
    select
        id as course_id,
        district as district_id,
        {{ clever_text('name') }} as name,
        {{ clever_text('number') }} as number,
        -- The tap's snapshot this version was read in (sortable: the snapshot's start).
        _clever_snapshot_id as snapshot_id,
        _sdc_extracted_at as extracted_at,
        _sdc_batched_at as loaded_at,
        {{ clever_timestamp('_sdc_deleted_at') }} as deleted_at
    from source
)

select * from renamed
