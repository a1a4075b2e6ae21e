-- One row per user and role held (a teacher who is also a district admin has two).
{{ config(unique_key='user_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
),

user_roles as (
    select
        user_id,
        unnest(role_names) as role,
        district_id,
        loaded_at
    from users
)

{% call clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'user_id') -%}
select
    {{ clever_surrogate_key(['user_id', 'role']) }} as user_role_id,
    user_id,
    role,
    district_id,
    loaded_at
from user_roles
{%- endcall %}
