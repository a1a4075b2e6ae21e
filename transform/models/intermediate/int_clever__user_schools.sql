-- One row per user, role and school the role is attached to: the role's `schools` list plus
-- its primary `school` (students and teachers).
with user_roles as (
    select * from {{ ref('int_clever__user_roles') }}
    where role in ('student', 'teacher', 'staff')
),

listed_schools as (
    select
        user_roles.user_id,
        user_roles.role,
        user_roles.district_id,
        {{ clever_text("user_roles.role_attributes ->> 'school'") }} as primary_school_id,
        school.school_id
    from user_roles,
        unnest({{ clever_id_list("user_roles.role_attributes -> 'schools'") }}) as school (school_id)
),

primary_schools as (
    select
        user_id,
        role,
        district_id,
        {{ clever_text("role_attributes ->> 'school'") }} as primary_school_id,
        {{ clever_text("role_attributes ->> 'school'") }} as school_id
    from user_roles
),

user_schools as (
    select * from listed_schools
    union
    select * from primary_schools
)

select
    {{ clever_surrogate_key(['user_id', 'role', 'school_id']) }} as user_school_id,
    user_id,
    role,
    school_id,
    district_id,
    coalesce(school_id = primary_school_id, false) as is_primary
from user_schools
where school_id is not null
