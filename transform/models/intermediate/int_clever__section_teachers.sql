-- One row per section and teacher: the `teachers` list plus the primary `teacher`, which
-- Clever normally also lists but does not guarantee to.
with sections as (
    select * from {{ ref('int_clever__sections_current') }}
),

listed_teachers as (
    select
        sections.section_id,
        sections.district_id,
        sections.primary_teacher_id,
        teacher.teacher_id
    from sections,
        unnest(sections.teacher_ids) as teacher (teacher_id)
),

primary_teachers as (
    select
        section_id,
        district_id,
        primary_teacher_id,
        primary_teacher_id as teacher_id
    from sections
    where primary_teacher_id is not null
),

section_teachers as (
    select distinct section_id, district_id, primary_teacher_id, teacher_id
    from listed_teachers
    union
    select section_id, district_id, primary_teacher_id, teacher_id
    from primary_teachers
)

select
    {{ clever_surrogate_key(['section_id', 'teacher_id']) }} as section_teacher_id,
    section_id,
    teacher_id,
    district_id,
    coalesce(teacher_id = primary_teacher_id, false) as is_primary
from section_teachers
where teacher_id is not null
