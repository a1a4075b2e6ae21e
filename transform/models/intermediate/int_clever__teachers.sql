with teacher_roles as (
    select * from {{ ref('int_clever__user_roles') }}
    where role = 'teacher'
),

teachers as (
    select
        user_id as teacher_id,
        district_id,
        {{ clever_text("role_attributes ->> 'school'") }} as school_id,
        {{ clever_id_list("role_attributes -> 'schools'") }} as school_ids,
        email,
        first_name,
        middle_name,
        last_name,
        {{ clever_text("role_attributes ->> 'title'") }} as title,
        {{ clever_text("role_attributes ->> 'sis_id'") }} as sis_id,
        {{ clever_text("role_attributes ->> 'state_id'") }} as state_id,
        {{ clever_text("role_attributes ->> 'teacher_number'") }} as teacher_number,
        {{ clever_text("role_attributes ->> 'legacy_id'") }} as legacy_id,
        {{ clever_text("role_attributes -> 'credentials' ->> 'district_username'") }} as district_username,
        role_attributes -> 'ext' as ext,
        coalesce({{ clever_timestamp("role_attributes ->> 'created'") }}, created_at) as created_at,
        coalesce({{ clever_timestamp("role_attributes ->> 'last_modified'") }}, last_modified_at) as last_modified_at
    from teacher_roles
)

select * from teachers
