-- One row per contact and student, from either contact shape:
--   v3: roles.contact.student_relationships = [{student, relationship, type}, ...]
--   v2: roles.contact.relationship + type + students = [student id, ...]
-- A payload can carry both (a v2 list beside an empty v3 list); where both name the same
-- student, the v3 entry wins, being the per-student one; within a shape, the first listed.
{{ config(unique_key='contact_id') }}

with users as (
    {{ clever_changed_rows(ref('int_clever__users_current')) }}
),

contacts as (
    select
        user_id as contact_id,
        district_id,
        contact,
        loaded_at
    from users
    where contact is not null
),

v3_entries as (
    select
        contact_id,
        district_id,
        unnest({{ clever_struct_field('contact', 'student_relationships') }}) as entry,
        {{ clever_list_positions(clever_struct_field('contact', 'student_relationships')) }} as position,
        loaded_at
    from contacts
),

v3_relationships as (
    select
        contact_id,
        district_id,
        {{ clever_struct_column('entry', 'student_id') }},
        {{ clever_struct_column('entry', 'relationship') }},
        {{ clever_struct_column('entry', 'relationship_type') }},
        'v3' as source_shape,
        1 as shape_priority,
        position,
        loaded_at
    from v3_entries
),

v2_entries as (
    select
        contact_id,
        district_id,
        {{ clever_struct_field('contact', 'v2_relationship') }} as relationship,
        {{ clever_struct_field('contact', 'v2_relationship_type') }} as relationship_type,
        unnest({{ clever_struct_field('contact', 'v2_student_ids') }}) as student_id,
        {{ clever_list_positions(clever_struct_field('contact', 'v2_student_ids')) }} as position,
        loaded_at
    from contacts
),

v2_relationships as (
    select
        contact_id,
        district_id,
        {{ clever_text('student_id') }} as student_id,
        relationship,
        relationship_type,
        'v2' as source_shape,
        2 as shape_priority,
        position,
        loaded_at
    from v2_entries
),

one_per_contact_and_student as (
    {%- set candidates %}(
        select * from v3_relationships
        union all
        select * from v2_relationships
    ){% endset %}
    {{ clever_first_rows(
        candidates,
        partition_by='contact_id, student_id',
        order_by='shape_priority, position',
        where='student_id is not null',
    ) }}
)

{% call clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'contact_id') -%}
select
    {{ clever_surrogate_key(['contact_id', 'student_id']) }} as contact_relationship_id,
    contact_id,
    student_id,
    district_id,
    relationship,
    relationship_type,
    source_shape,
    loaded_at
from one_per_contact_and_student
{%- endcall %}
