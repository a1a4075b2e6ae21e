{{ config(unique_key='event_id') }}

with events as (
    {{ clever_changed_rows(ref('stg_clever__events')) }}
)

{% call clever_replaced_records(ref('stg_clever__events'), 'event_id', 'event_id') -%}
select
    event_id,
    district_id,
    event_type,
    record_type,
    action,
    object_id,
    created_at as created,
    loaded_at
from events
where deleted_at is null
{%- endcall %}
