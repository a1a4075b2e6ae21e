{{ config(unique_key='student_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
)

{% call clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'student_id') -%}
select
    user_id as student_id,
    district_id,
    {{ clever_struct_column('student', 'school_id') }},
    {{ clever_struct_column('student', 'grade') }},
    {{ clever_struct_column('student', 'dob') }},
    {{ clever_struct_column('student', 'gender') }},
    {{ clever_struct_column('student', 'ell_status') }},
    {{ clever_struct_column('student', 'gifted_status') }},
    {{ clever_struct_column('student', 'hispanic_ethnicity') }},
    {{ clever_struct_column('student', 'section_504_status') }},
    {{ clever_struct_column('student', 'disability_status') }},
    {{ clever_struct_column('student', 'disability_code') }},
    {{ clever_struct_column('student', 'disability_type') }},
    {{ clever_struct_column('student', 'iep_status') }},
    {{ clever_struct_column('student', 'frl_status') }},
    {{ clever_struct_column('student', 'race') }},
    {{ clever_struct_column('student', 'home_language') }},
    {{ clever_struct_column('student', 'home_language_code') }},
    {{ clever_struct_column('student', 'graduation_year') }},
    first_name,
    middle_name,
    last_name,
    {{ clever_struct_column('student', 'preferred_first_name') }},
    {{ clever_struct_column('student', 'preferred_last_name') }},
    email,
    {{ clever_struct_column('student', 'district_username') }},
    {{ clever_struct_column('student', 'sis_id') }},
    {{ clever_struct_column('student', 'state_id') }},
    {{ clever_struct_column('student', 'student_number') }},
    {{ clever_struct_column('student', 'legacy_id') }},
    {{ clever_struct_column('student', 'city') }},
    {{ clever_struct_column('student', 'state') }},
    {{ clever_struct_column('student', 'zip') }},
    -- The role's own times when Clever sends them, else the user's.
    coalesce({{ clever_struct_field('student', 'created_at') }}, created_at) as created_at,
    coalesce({{ clever_struct_field('student', 'last_modified_at') }}, last_modified_at) as last_modified_at,
    loaded_at
from users
where student is not null
{%- endcall %}
