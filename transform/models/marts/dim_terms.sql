select
    term_id,
    district_id,
    name,
    start_date,
    end_date,
    loaded_at
from {{ ref('int_clever__terms_current') }}
