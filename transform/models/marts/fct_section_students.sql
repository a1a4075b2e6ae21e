-- One row per section and student enrolled in it (the section's `students` list).
{{ config(unique_key='section_id') }}

with sections as (
    {{ clever_changed_rows(ref('int_clever__sections_current')) }}
),

listed_students as (
    select
        section_id,
        district_id,
        unnest(student_ids) as student_id,
        loaded_at
    from sections
),

section_students as (
    select distinct *
    from listed_students
    where student_id is not null
)

{% call clever_replaced_records(ref('int_clever__sections_current'), 'section_id', 'section_id') -%}
select
    {{ clever_surrogate_key(['section_id', 'student_id']) }} as section_student_id,
    section_id,
    student_id,
    district_id,
    loaded_at
from section_students
{%- endcall %}
