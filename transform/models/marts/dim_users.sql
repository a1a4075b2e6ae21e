with users as (
    select * from {{ ref('int_clever__users_current') }}
),

user_roles as (
    select * from {{ ref('int_clever__user_roles') }}
),

roles_per_user as (
    select
        user_id,
        count(*) as role_count,
        list(role order by role) as roles,
        bool_or(role = 'student') as is_student,
        bool_or(role = 'teacher') as is_teacher,
        bool_or(role = 'staff') as is_staff,
        bool_or(role = 'contact') as is_contact,
        bool_or(role = 'district_admin') as is_district_admin
    from user_roles
    group by user_id
)

select
    users.user_id,
    users.district_id,
    users.email,
    users.first_name,
    users.middle_name,
    users.last_name,
    coalesce(roles_per_user.roles, cast([] as varchar[])) as roles,
    coalesce(roles_per_user.role_count, 0) as role_count,
    coalesce(roles_per_user.is_student, false) as is_student,
    coalesce(roles_per_user.is_teacher, false) as is_teacher,
    coalesce(roles_per_user.is_staff, false) as is_staff,
    coalesce(roles_per_user.is_contact, false) as is_contact,
    coalesce(roles_per_user.is_district_admin, false) as is_district_admin,
    users.created_at,
    users.last_modified_at,
    users.loaded_at
from users
left join roles_per_user
    on users.user_id = roles_per_user.user_id
