-- A table, not a view, built incrementally: each raw row version is parsed once, when it is
-- loaded (the loader upserts raw rows on `id` and never deletes them, so the rows to stage
-- are those loaded since the last build), and the current-state model reads typed columns.
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

with source as (
    select * from {{ source('clever', 'events') }}
    {%- if is_incremental() %}
    where _sdc_batched_at > {{ clever_last_build() }}
    {%- endif %}
),

renamed as (
    select
        id as event_id,
        district as district_id,
        {{ clever_text('type') }} as event_type,
        -- "users.updated" -> record type "users", action "updated".
        {{ clever_text("split_part(type, '.', 1)") }} as record_type,
        {{ clever_text("split_part(type, '.', 2)") }} as action,
        {{ clever_text("data -> 'object' ->> 'id'") }} as object_id,
        data -> 'object' as object,
        data -> 'previous_attributes' as previous_attributes,
        cast(created as timestamp) as created_at,
        _sdc_extracted_at as extracted_at,
        _sdc_batched_at as loaded_at,
        {{ clever_timestamp('_sdc_deleted_at') }} as deleted_at
    from source
)

select * from renamed
