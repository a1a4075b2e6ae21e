-- One row per school enrollment listed on a student (roles.student.enrollments), dates parsed
-- where the student record was staged (Clever passes them through from the SIS in several forms).
{{ config(unique_key='student_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
),

enrollments as (
    select
        user_id as student_id,
        district_id,
        unnest(student.enrollments) as entry,
        generate_subscripts(student.enrollments, 1) as position,
        loaded_at
    from users
    where student is not null
)

select
    {{ clever_surrogate_key(['student_id', 'position']) }} as student_enrollment_id,
    student_id,
    entry.school_id,
    district_id,
    entry.start_date,
    entry.end_date,
    position as enrollment_position,
    loaded_at
from enrollments
{{ clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'student_id') }}
