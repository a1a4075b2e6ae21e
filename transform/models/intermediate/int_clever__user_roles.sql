-- One row per user and role held. Clever puts every role of a user in one `roles` object
-- (a teacher who is also a district admin has both keys); a key whose value is not an object
-- (null, or absent) is not a role held.
with users as (
    select * from {{ ref('int_clever__users_current') }}
),

role_keys as (
    select
        users.*,
        role_key.role
    from users,
        unnest(coalesce(json_keys(users.roles), cast([] as varchar[]))) as role_key (role)
),

user_roles as (
    select
        {{ clever_surrogate_key(['user_id', 'role']) }} as user_role_id,
        user_id,
        role,
        district_id,
        email,
        first_name,
        middle_name,
        last_name,
        roles -> role as role_attributes,
        created_at,
        last_modified_at
    from role_keys
    where json_type(roles -> role) = 'OBJECT'
)

select * from user_roles
