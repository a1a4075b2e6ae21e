with staff_roles as (
    select * from {{ ref('int_clever__user_roles') }}
    where role = 'staff'
),

staff as (
    select
        user_id as staff_id,
        district_id,
        {{ clever_id_list("role_attributes -> 'schools'") }} as school_ids,
        email,
        first_name,
        middle_name,
        last_name,
        {{ clever_text("role_attributes ->> 'title'") }} as title,
        {{ clever_text("role_attributes ->> 'department'") }} as department,
        -- Clever's `staff_id` is the district's own staff number, not the Clever id.
        {{ clever_text("role_attributes ->> 'staff_id'") }} as district_staff_id,
        {{ clever_id_list("role_attributes -> 'roles'") }} as staff_roles,
        {{ clever_text("role_attributes ->> 'legacy_id'") }} as legacy_id,
        {{ clever_text("role_attributes -> 'credentials' ->> 'district_username'") }} as district_username,
        role_attributes -> 'ext' as ext,
        created_at,
        last_modified_at
    from staff_roles
)

select * from staff
