-- One row per school enrollment listed on a student (roles.student.enrollments), with the
-- dates normalized: Clever passes them through from the SIS in several forms.
with students as (
    select * from {{ ref('int_clever__students') }}
),

enrollments as (
    select
        students.student_id,
        students.district_id,
        enrollment.entry,
        enrollment.position
    from students,
        unnest(
            case when json_type(students.enrollments) = 'ARRAY'
                then cast(json_extract(students.enrollments, '$[*]') as json[])
                else cast([] as json[])
            end
        ) with ordinality as enrollment (entry, position)
)

select
    {{ clever_surrogate_key(['student_id', 'position']) }} as student_enrollment_id,
    student_id,
    district_id,
    {{ clever_text("entry ->> 'school'") }} as school_id,
    {{ clever_date("entry ->> 'start_date'") }} as start_date,
    {{ clever_date("entry ->> 'end_date'") }} as end_date,
    entry ->> 'start_date' as start_date_text,
    entry ->> 'end_date' as end_date_text,
    position as enrollment_position
from enrollments
