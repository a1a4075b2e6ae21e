with district_admin_roles as (
    select * from {{ ref('int_clever__user_roles') }}
    where role = 'district_admin'
),

district_admins as (
    select
        user_id as district_admin_id,
        district_id,
        email,
        first_name,
        middle_name,
        last_name,
        {{ clever_text("role_attributes ->> 'title'") }} as title,
        {{ clever_text("role_attributes ->> 'legacy_id'") }} as legacy_id,
        created_at,
        last_modified_at
    from district_admin_roles
)

select * from district_admins
