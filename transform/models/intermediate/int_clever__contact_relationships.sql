-- One row per contact and student, from either contact shape:
--   v3: roles.contact.student_relationships = [{student, relationship, type}, ...]
--   v2: roles.contact.relationship + type + students = [student id, ...]
-- A payload can carry both (a v2 list beside an empty v3 list); where both name the same
-- student, the v3 entry wins, being the per-student one.
with contacts as (
    select * from {{ ref('int_clever__contacts') }}
),

v3_relationships as (
    select
        contacts.contact_id,
        contacts.district_id,
        {{ clever_text("relationship.entry ->> 'student'") }} as student_id,
        {{ clever_text("relationship.entry ->> 'relationship'") }} as relationship,
        {{ clever_text("relationship.entry ->> 'type'") }} as relationship_type,
        'v3' as source_shape,
        1 as shape_priority
    from contacts,
        unnest(
            case when json_type(contacts.student_relationships) = 'ARRAY'
                then cast(json_extract(contacts.student_relationships, '$[*]') as json[])
                else cast([] as json[])
            end
        ) as relationship (entry)
),

v2_relationships as (
    select
        contacts.contact_id,
        contacts.district_id,
        {{ clever_text('student.student_id') }} as student_id,
        contacts.v2_relationship as relationship,
        contacts.v2_relationship_type as relationship_type,
        'v2' as source_shape,
        2 as shape_priority
    from contacts,
        unnest({{ clever_id_list('contacts.v2_students') }}) as student (student_id)
),

all_relationships as (
    select * from v3_relationships
    union all
    select * from v2_relationships
),

one_per_contact_and_student as (
    select *
    from all_relationships
    where student_id is not null
    qualify row_number() over (
        partition by contact_id, student_id
        order by shape_priority
    ) = 1
)

select
    {{ clever_surrogate_key(['contact_id', 'student_id']) }} as contact_relationship_id,
    contact_id,
    student_id,
    district_id,
    relationship,
    relationship_type,
    source_shape
from one_per_contact_and_student
