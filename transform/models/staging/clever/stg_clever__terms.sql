-- Raw terms, typed and renamed; the columns are defined once, in clever_terms_fields
-- (macros/clever_records.sql), which also reads the same record out of an event.
with source as (
    select * from {{ source('clever', 'terms') }}
),

renamed as (
    select
        {{ clever_terms_fields('raw') }},
        -- The tap's snapshot this version was read in (sortable: the snapshot's start).
        _clever_snapshot_id as snapshot_id,
        _sdc_extracted_at as extracted_at,
        _sdc_batched_at as loaded_at,
        {{ clever_timestamp('_sdc_deleted_at') }} as deleted_at
    from source
)

select * from renamed
