with source as (
    select * from {{ source('clever', 'terms') }}
),

renamed as (
    select
        id as term_id,
        district as district_id,
        {{ clever_text('name') }} as name,
        {{ clever_date('start_date') }} as start_date,
        {{ clever_date('end_date') }} as end_date,
        -- As sent, for the test that counts dates that did not parse.
        start_date as start_date_text,
        end_date as end_date_text,
        -- The tap's snapshot this version was read in (sortable: the snapshot's start).
        _clever_snapshot_id as snapshot_id,
        _sdc_extracted_at as extracted_at,
        _sdc_batched_at as loaded_at,
        {{ clever_timestamp('_sdc_deleted_at') }} as deleted_at
    from source
)

select * from renamed
