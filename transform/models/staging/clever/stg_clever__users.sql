-- Raw users, typed and renamed; the columns are defined once, in clever_users_fields
-- (macros/clever_records.sql), which also reads the same record out of an event. The `roles`
-- object is parsed here, once, into the roles held and one typed struct per role.
-- A table, not a view, built incrementally: each raw row version is parsed once, when it is
-- loaded (the loader upserts raw rows on `id` and never deletes them, so the rows to stage
-- are those loaded since the last build), and the current-state model reads typed columns.
{{
    config(
        materialized='incremental',
        unique_key='user_id',
        incremental_strategy='delete+insert',
    )
}}

with source as (
    select * from {{ source('clever', 'users') }}
    {%- if is_incremental() %}
    where _sdc_batched_at > {{ clever_last_build() }}
    {%- endif %}
),

parsed as {{ clever_materialized_cte() }} (
    {{ clever_record_parsed('users', 'raw') }}
    from source
),

renamed as (
    select
        {{ clever_users_fields('raw') }},
        -- The tap's snapshot this version was read in (sortable: the snapshot's start).
        _clever_snapshot_id as snapshot_id,
        _sdc_extracted_at as extracted_at,
        _sdc_batched_at as loaded_at,
        {{ clever_timestamp('_sdc_deleted_at') }} as deleted_at
    from parsed
)

select * from renamed
