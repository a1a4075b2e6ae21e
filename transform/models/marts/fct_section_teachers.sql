-- One row per section and teacher: the `teachers` list plus the primary `teacher`, which
-- Clever normally also lists but does not guarantee to.
{{ config(unique_key='section_id') }}

with sections as (
    {{ clever_changed_rows(ref('int_clever__sections_current')) }}
),

listed_teachers as (
    select
        section_id,
        district_id,
        primary_teacher_id,
        unnest(teacher_ids) as teacher_id,
        loaded_at
    from sections
),

primary_teachers as (
    select
        section_id,
        district_id,
        primary_teacher_id,
        primary_teacher_id as teacher_id,
        loaded_at
    from sections
    where primary_teacher_id is not null
),

section_teachers as (
    select * from listed_teachers
    union
    select * from primary_teachers
)

{% call clever_replaced_records(ref('int_clever__sections_current'), 'section_id', 'section_id') -%}
select
    {{ clever_surrogate_key(['section_id', 'teacher_id']) }} as section_teacher_id,
    section_id,
    teacher_id,
    district_id,
    coalesce(teacher_id = primary_teacher_id, false) as is_primary,
    loaded_at
from section_teachers
where teacher_id is not null
{%- endcall %}
