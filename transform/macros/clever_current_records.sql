{#- The current state of one record type: each district's latest complete snapshot, with the
    Clever events that came after it applied on top.

    Base: the snapshot rows. The loader upserts on the Clever id, so a raw table holds every
    record any load has seen, each with the snapshot it was last read in. A record is in the
    base when it was read in the district's latest completed snapshot or later (a later
    snapshot that did not complete still re-read it, so it is still there); a record only
    older snapshots saw has left Clever (removed or unshared) and is dropped. A district with
    no completed snapshot on record keeps all its rows.

    Deltas: the district's events of this record type after the snapshot's `event_cursor` (the
    newest event when the snapshot started; events up to it are already in the snapshot). For
    each record, the latest delta in feed order (the event id, never the `created` time) wins:
    `.deleted` removes the record, `.created` / `.updated` replace it by the event's object,
    the full record after the change. A record without a delta keeps its base row.
    Applying an event the snapshot already reflects changes nothing, because the event's
    object is the whole record; so does loading an event twice (the loader upserts on its id).
    A district without a completed snapshot takes all of its events; a snapshot taken over an
    empty feed (no cursor) takes the events read after it started.

    `loaded_at` of a row is the newest load among everything it was computed from: its
    snapshot row, its events after the cursor and its district's latest snapshot record.

    Incremental builds recompute only the records with an input loaded after the newest
    `loaded_at` already in the table (a snapshot row, an event), and every record of a
    district whose latest complete snapshot was loaded since (a resync: records it no longer
    holds must go). Each recomputed record replaces its row; one that no longer exists leaves
    a marker that removes it (see the clever_replace strategy, macros/clever_incremental.sql).
    A record is recomputed from all of its inputs, so the result is the full build's.

    record_type: Clever's record type (`users`); key: the id column of the staged rows. -#}
{% macro clever_current_records(record_type, key) -%}
with latest_snapshots as (
    select * from {{ ref('int_clever__latest_snapshots') }}
),

{% if is_incremental() %}
-- Only keys and load times here: the staged columns (parsed JSON) are read below, for the
-- records to recompute only.
last_build as (
    select coalesce(max(loaded_at), '-infinity'::timestamp) as loaded_at from {{ this }}
),

resynced_districts as (
    select district_id
    from latest_snapshots
    where loaded_at > (select loaded_at from last_build)
),

changed_records as (
    select {{ key }} as record_id
    from {{ ref('stg_clever__' ~ record_type) }}
    where loaded_at > (select loaded_at from last_build)
        or district_id in (select district_id from resynced_districts)
    union
    select object_id
    from {{ ref('stg_clever__events') }}
    where record_type = '{{ record_type }}'
        and (
            loaded_at > (select loaded_at from last_build)
            or district_id in (select district_id from resynced_districts)
        )
    union
    select {{ key }}
    from {{ this }}
    where district_id in (select district_id from resynced_districts)
),

{% endif %}
base_records as (
    select
        snapshot_rows.*,
        greatest(snapshot_rows.loaded_at, latest_snapshots.loaded_at) as inputs_loaded_at
    from {{ ref('stg_clever__' ~ record_type) }} as snapshot_rows
    left join latest_snapshots
        on snapshot_rows.district_id = latest_snapshots.district_id
    where snapshot_rows.deleted_at is null
        and (
            latest_snapshots.snapshot_id is null
            or snapshot_rows.snapshot_id >= latest_snapshots.snapshot_id
        )
        {%- if is_incremental() %}
        and snapshot_rows.{{ key }} in (select record_id from changed_records)
        {%- endif %}
),

deltas as (
    select
        events.*,
        greatest(events.loaded_at, latest_snapshots.loaded_at) as inputs_loaded_at
    from {{ ref('stg_clever__events') }} as events
    left join latest_snapshots
        on events.district_id = latest_snapshots.district_id
    where events.record_type = '{{ record_type }}'
        and events.object_id is not null
        and events.deleted_at is null
        and (
            latest_snapshots.snapshot_id is null
            or events.event_id > nullif(latest_snapshots.event_cursor, '')
            -- No cursor: the feed was empty when the snapshot started (and the tap had no
            -- bookmark to fall back on, e.g. --full-refresh), so every event Clever wrote
            -- since is newer; events earlier runs loaded are not, and were read before the
            -- snapshot started (both times are the tap's clock).
            or (
                coalesce(latest_snapshots.event_cursor, '') = ''
                and events.extracted_at >= {{ clever_try_timestamp('latest_snapshots.snapshot_id') }}
            )
        )
        {%- if is_incremental() %}
        and events.object_id in (select record_id from changed_records)
        {%- endif %}
),

latest_deltas as (
    {{ clever_first_rows('deltas', partition_by='object_id', order_by='event_id desc') }}
),

-- The newest load among each record's inputs (its snapshot row and events).
record_inputs as (
    select record_id, max(inputs_loaded_at) as loaded_at
    from (
        select {{ key }} as record_id, inputs_loaded_at from base_records
        union all
        select object_id, inputs_loaded_at from deltas
    ) as inputs
    group by record_id
),

parsed_events as {{ clever_materialized_cte() }} (
    {{ clever_record_parsed(record_type, 'event') }}
    from latest_deltas
    where action <> 'deleted'
),

records_from_events as (
    select
        {{ clever_record_fields(record_type, 'event') }},
        cast(null as varchar) as snapshot_id,
        extracted_at,
        event_id as applied_event_id
    from parsed_events
),

records_from_snapshot as (
    select
        {{ clever_star_except('base_records', ['loaded_at', 'deleted_at', 'inputs_loaded_at'], clever_staged_columns(record_type) + ['inputs_loaded_at']) }},
        cast(null as varchar) as applied_event_id
    from base_records
    where not exists (
        select 1
        from latest_deltas
        where latest_deltas.object_id = base_records.{{ key }}
    )
),

{#- The same columns in the same order on both sides: the staged columns are the record's. #}
current_records as (
    {{ clever_union_all_by_name('records_from_snapshot', 'records_from_events') }}
)

{% set rows -%}
select
    current_records.*,
    record_inputs.loaded_at
from current_records
inner join record_inputs
    on current_records.{{ key }} = record_inputs.record_id
{%- if is_incremental() %}

-- Every recomputed record also gets a marker: its old row goes even when it has no new one.
{%- endif %}
{%- endset -%}
{%- if is_incremental() %}
{%- set markers -%}
select
    record_id as {{ key }},
    cast(null as timestamp) as loaded_at
from changed_records
{%- endset %}
{{ clever_union_markers(rows, markers, key) }}
{%- else %}
{{ rows }}
{%- endif %}
{%- endmacro %}
