with source as (
    select * from {{ source('clever', 'snapshots') }}
),

renamed as (
    select
        {{ clever_surrogate_key(['district', 'snapshot_id']) }} as district_snapshot_id,
        district as district_id,
        snapshot_id,
        {{ clever_text('event_cursor') }} as event_cursor,
        {{ clever_text('reason') }} as reason,
        cast(completed_at as timestamp) as completed_at,
        _sdc_extracted_at as extracted_at,
        _sdc_batched_at as loaded_at,
        {{ clever_timestamp('_sdc_deleted_at') }} as deleted_at
    from source
)

select * from renamed
