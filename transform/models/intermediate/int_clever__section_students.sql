-- One row per section and student enrolled in it (the section's `students` list).
with sections as (
    select * from {{ ref('int_clever__sections_current') }}
),

section_students as (
    select distinct
        sections.section_id,
        sections.district_id,
        student.student_id
    from sections,
        unnest(sections.student_ids) as student (student_id)
)

select
    {{ clever_surrogate_key(['section_id', 'student_id']) }} as section_student_id,
    section_id,
    student_id,
    district_id
from section_students
where student_id is not null
