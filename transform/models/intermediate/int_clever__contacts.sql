with contact_roles as (
    select * from {{ ref('int_clever__user_roles') }}
    where role = 'contact'
),

contacts as (
    select
        user_id as contact_id,
        district_id,
        email,
        first_name,
        middle_name,
        last_name,
        {{ clever_text("role_attributes ->> 'phone'") }} as phone,
        {{ clever_text("role_attributes ->> 'phone_type'") }} as phone_type,
        {{ clever_text("role_attributes ->> 'sis_id'") }} as sis_id,
        {{ clever_text("role_attributes ->> 'legacy_id'") }} as legacy_id,
        -- v3 shape: one {student, relationship, type} per student.
        role_attributes -> 'student_relationships' as student_relationships,
        -- Older v2 shape (still seen inside events): one relationship and type for a list of
        -- students.
        {{ clever_text("role_attributes ->> 'relationship'") }} as v2_relationship,
        {{ clever_text("role_attributes ->> 'type'") }} as v2_relationship_type,
        role_attributes -> 'students' as v2_students,
        created_at,
        last_modified_at
    from contact_roles
)

select * from contacts
