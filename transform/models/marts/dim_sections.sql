{{ config(unique_key='section_id') }}

with sections as (
    {{ clever_changed_rows(ref('int_clever__sections_current')) }}
)

{% call clever_replaced_records(ref('int_clever__sections_current'), 'section_id', 'section_id') -%}
select
    section_id,
    district_id,
    school_id,
    course_id,
    term_id,
    name,
    subject,
    grade,
    primary_teacher_id as teacher_id,
    period,
    section_number,
    sis_id,
    {{ clever_list_length('student_ids') }} as listed_student_count,
    {{ clever_list_length('teacher_ids') }} as listed_teacher_count,
    created_at,
    last_modified_at,
    loaded_at
from sections
{%- endcall %}
