with source as (
    select * from {{ source('clever', 'resources') }}
),

renamed as (
    select
        id as resource_id,
        district as district_id,
        {{ clever_text('title') }} as title,
        -- Clever's `resource_id` is the provider's identifier, not the record id.
        {{ clever_text('resource_id') }} as provider_resource_id,
        {{ clever_id_list('roles') }} as audience_roles,
        cast(created as timestamp) as created_at,
        cast(updated as timestamp) as updated_at,
        -- The tap's snapshot this version was read in (sortable: the snapshot's start).
        _clever_snapshot_id as snapshot_id,
        _sdc_extracted_at as extracted_at,
        _sdc_batched_at as loaded_at,
        {{ clever_timestamp('_sdc_deleted_at') }} as deleted_at
    from source
)

select * from renamed
