with source as (
    select * from {{ source('clever', 'users') }}
),

renamed as (
    select
        id as user_id,
        district as district_id,
        {{ clever_text('email') }} as email,
        {{ clever_text("name ->> 'first'") }} as first_name,
        {{ clever_text("name ->> 'middle'") }} as middle_name,
        {{ clever_text("name ->> 'last'") }} as last_name,
        -- One object per role held; unnested in int_clever__user_roles.
        roles,
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
