{{ config(unique_key='teacher_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
)

{% call clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'teacher_id') -%}
select
    user_id as teacher_id,
    district_id,
    {{ clever_struct_column('teacher', 'school_id') }},
    first_name,
    middle_name,
    last_name,
    email,
    {{ clever_struct_column('teacher', 'title') }},
    {{ clever_struct_column('teacher', 'district_username') }},
    {{ clever_struct_column('teacher', 'sis_id') }},
    {{ clever_struct_column('teacher', 'state_id') }},
    {{ clever_struct_column('teacher', 'teacher_number') }},
    {{ clever_struct_column('teacher', 'legacy_id') }},
    -- The role's own times when Clever sends them, else the user's.
    coalesce({{ clever_struct_field('teacher', 'created_at') }}, created_at) as created_at,
    coalesce({{ clever_struct_field('teacher', 'last_modified_at') }}, last_modified_at) as last_modified_at,
    loaded_at
from users
where teacher is not null
{%- endcall %}
