with source as (
    select * from {{ source('clever', 'events') }}
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
