-- One row per change of a student's place in the roster, from the Clever event history: a
-- student joined or left a section (a section's `students` list changed, or the section was
-- created or deleted), or joined or left a school (the student's primary `school` changed, or
-- the student was created or deleted). Answers "when did this student change school / leave
-- this section". Built from every event ever loaded (fct_events), not only those after the
-- latest snapshot, so the history outlives resyncs; ordered by event id (Clever's feed order),
-- `changed_at` is the event's time. What changed is read from each event itself: an update's
-- `previous_attributes` holds the old value of every changed field, so no event depends on an
-- earlier one having been loaded. Incremental: the changes of the events loaded since the last
-- build (an event reloaded with the same content gives the same rows).
{{ config(unique_key='event_id') }}

with events as (
    select *
    from ({{ clever_changed_rows(ref('stg_clever__events')) }}) as changed_events
    where record_type in ('sections', 'users')
        and deleted_at is null
),

section_events as (
    select
        event_id,
        district_id,
        created_at,
        event_type,
        action,
        loaded_at,
        object_id as section_id,
        {{ clever_text("object ->> 'school'") }} as school_id,
        {{ clever_id_list("object -> 'students'") }} as students_after,
        -- NULL when the update did not touch the roster.
        case when {{ clever_json_exists('previous_attributes', '$.students') }}
            then {{ clever_id_list("previous_attributes -> 'students'") }}
        end as students_before
    from events
    where record_type = 'sections'
),

section_joins as (
    select *, 'joined' as change
    from (
        select section_events.*, unnest(students_after) as student_id
        from section_events
    ) as listed_after
    where action = 'created'
        or (
            action = 'updated'
            and students_before is not null
            and not {{ clever_list_contains('students_before', 'student_id') }}
        )
),

section_leaves as (
    select *, 'left' as change
    from (
        select
            section_events.*,
            unnest(coalesce(students_before, students_after)) as student_id
        from section_events
    ) as listed_before
    where action = 'deleted'
        or (
            action = 'updated'
            and students_before is not null
            and not {{ clever_list_contains('students_after', 'student_id') }}
        )
),

section_changes as (
    select
        event_id, district_id, created_at, event_type, student_id,
        'section' as scope, section_id, school_id, change, loaded_at
    from section_joins
    union all
    select
        event_id, district_id, created_at, event_type, student_id,
        'section' as scope, section_id, school_id, change, loaded_at
    from section_leaves
),

student_events as (
    select
        event_id,
        district_id,
        created_at,
        event_type,
        action,
        loaded_at,
        object_id as student_id,
        {{ clever_text("object -> 'roles' -> 'student' ->> 'school'") }} as school_after,
        -- Only an update whose previous_attributes carry the student's school changed it.
        {{ clever_json_exists('previous_attributes', '$.roles.student.school') }} as school_changed,
        {{ clever_text("previous_attributes -> 'roles' -> 'student' ->> 'school'") }} as school_before
    from events
    where record_type = 'users'
        and {{ clever_json_exists('object', '$.roles.student') }}
),

school_changes as (
    select
        event_id, district_id, created_at, event_type, student_id,
        'school' as scope, null as section_id, school_after as school_id, 'joined' as change,
        loaded_at
    from student_events
    where school_after is not null
        and (
            action = 'created'
            or (action = 'updated' and school_changed and school_before is distinct from school_after)
        )
    union all
    select
        event_id, district_id, created_at, event_type, student_id,
        'school' as scope, null as section_id,
        case when action = 'deleted' then school_after else school_before end as school_id,
        'left' as change,
        loaded_at
    from student_events
    where (action = 'deleted' and school_after is not null)
        or (
            action = 'updated'
            and school_changed
            and school_before is not null
            and school_before is distinct from school_after
        )
),

roster_changes as (
    select * from section_changes
    union all
    select * from school_changes
)

{% call clever_replaced_records(ref('stg_clever__events'), 'event_id', 'event_id') -%}
select
    {{ clever_surrogate_key(['event_id', 'scope', 'student_id', 'change']) }} as roster_change_id,
    event_id,
    created_at as changed_at,
    district_id,
    student_id,
    scope,
    cast(section_id as text) as section_id,
    school_id,
    change,
    event_type,
    loaded_at
from roster_changes
where student_id is not null
{%- endcall %}
