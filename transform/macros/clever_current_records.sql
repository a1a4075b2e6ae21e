{#- The current records of one entity: the rows of each district's latest complete snapshot.

    The loader upserts on the Clever id, so a raw table holds every record any load has seen,
    each with the snapshot it was last read in. A record is current when it was read in the
    district's latest completed snapshot or later (a later snapshot that did not complete
    still re-read it, so it is still there); a record only older snapshots saw has left
    Clever (removed or unshared) and is dropped. A district with no completed snapshot on
    record keeps all its rows. Rows the loader marked deleted are dropped.
    Clever events are to be applied on top of this (snapshot + newer events, in event-id
    order), so every mart reads its entity through an int_clever__<entity>_current model. -#}
{% macro clever_current_records(records_relation, latest_snapshots_relation) -%}
with records as (
    select * from {{ records_relation }}
),

latest_snapshots as (
    select * from {{ latest_snapshots_relation }}
)

select records.*
from records
left join latest_snapshots
    on records.district_id = latest_snapshots.district_id
where records.deleted_at is null
    and (
        latest_snapshots.snapshot_id is null
        or records.snapshot_id >= latest_snapshots.snapshot_id
    )
{%- endmacro %}
