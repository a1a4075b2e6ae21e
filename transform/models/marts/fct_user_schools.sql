-- One row per user, role and school the role is attached to: the role's `schools` list plus
-- its primary `school` (students, teachers and staff).
{{ config(unique_key='user_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
),

role_schools as (
    {%- for role in ['student', 'teacher', 'staff'] %}
    select
        user_id,
        '{{ role }}' as role,
        district_id,
        {{ clever_struct_field(role, 'school_id') }} as primary_school_id,
        {{ clever_struct_column(role, 'school_ids') }},
        loaded_at
    from users
    where {{ role }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

listed_schools as (
    select
        user_id, role, district_id, primary_school_id, loaded_at,
        unnest(school_ids) as school_id
    from role_schools
),

primary_schools as (
    select
        user_id, role, district_id, primary_school_id, loaded_at,
        primary_school_id as school_id
    from role_schools
),

user_schools as (
    select * from listed_schools
    union
    select * from primary_schools
)

{% call clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'user_id') -%}
select
    {{ clever_surrogate_key(['user_id', 'role', 'school_id']) }} as user_school_id,
    user_id,
    role,
    school_id,
    district_id,
    coalesce(school_id = primary_school_id, false) as is_primary,
    loaded_at
from user_schools
where school_id is not null
{%- endcall %}
