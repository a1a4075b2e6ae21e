select
    contact_relationship_id,
    contact_id,
    student_id,
    district_id,
    relationship,
    relationship_type,
    source_shape
from {{ ref('int_clever__contact_relationships') }}
