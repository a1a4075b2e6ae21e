-- Raw sections, typed and renamed; the columns are defined once, in clever_sections_fields
-- (macros/clever_records.sql), which also reads the same record out of an event.
-- A table, not a view, built incrementally: each raw row version is parsed once, when it is
-- loaded (the loader upserts raw rows on `id` and never deletes them, so the rows to stage
-- are those loaded since the last build), and the current-state model reads typed columns.
{{
    config(
        materialized='incremental',
        unique_key='section_id',
        incremental_strategy='delete+insert',
    )
}}

with source as (
    select * from {{ source('clever', 'sections') }}
    {%- if is_incremental() %}
    where _sdc_batched_at > {{ clever_last_build() }}
    {%- endif %}
),

renamed as (
    select
        {{ clever_sections_fields('raw') }},
        -- The tap's snapshot this version was read in (sortable: the snapshot's start).
        _clever_snapshot_id as snapshot_id,
        _sdc_extracted_at as extracted_at,
        _sdc_batched_at as loaded_at,
        {{ clever_timestamp('_sdc_deleted_at') }} as deleted_at
    from source
)

select * from renamed
