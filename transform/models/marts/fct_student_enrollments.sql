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
        unnest({{ clever_struct_field('student', 'enrollments') }}) as entry,
        {{ clever_list_positions(clever_struct_field('student', 'enrollments')) }} as position,
        loaded_at
    from users
    where student is not null
)

{% call clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'student_id') -%}
select
    {{ clever_surrogate_key(['student_id', 'position']) }} as student_enrollment_id,
    student_id,
    {{ clever_struct_column('entry', 'school_id') }},
    district_id,
    {{ clever_struct_column('entry', 'start_date') }},
    {{ clever_struct_column('entry', 'end_date') }},
    position as enrollment_position,
    loaded_at
from enrollments
{%- endcall %}
