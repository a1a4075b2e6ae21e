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

    record_type: Clever's record type (`users`); key: the id column of the staged rows. -#}
{% macro clever_current_records(record_type, key) -%}
with snapshot_rows as (
    select * from {{ ref('stg_clever__' ~ record_type) }}
),

latest_snapshots as (
    select * from {{ ref('int_clever__latest_snapshots') }}
),

events as (
    select * from {{ ref('int_clever__events') }}
),

base_records as (
    select snapshot_rows.*
    from snapshot_rows
    left join latest_snapshots
        on snapshot_rows.district_id = latest_snapshots.district_id
    where snapshot_rows.deleted_at is null
        and (
            latest_snapshots.snapshot_id is null
            or snapshot_rows.snapshot_id >= latest_snapshots.snapshot_id
        )
),

deltas as (
    select events.*
    from events
    left join latest_snapshots
        on events.district_id = latest_snapshots.district_id
    where events.record_type = '{{ record_type }}'
        and events.object_id is not null
        and (
            latest_snapshots.snapshot_id is null
            or events.event_id > nullif(latest_snapshots.event_cursor, '')
            -- No cursor: the feed was empty when the snapshot started (and the tap had no
            -- bookmark to fall back on, e.g. --full-refresh), so every event Clever wrote
            -- since is newer; events earlier runs loaded are not, and were read before the
            -- snapshot started (both times are the tap's clock).
            or (
                coalesce(latest_snapshots.event_cursor, '') = ''
                and events.extracted_at >= try_cast(latest_snapshots.snapshot_id as timestamp)
            )
        )
),

latest_deltas as (
    select *
    from deltas
    qualify row_number() over (partition by object_id order by event_id desc) = 1
),

records_from_events as (
    select
        {{ clever_record_fields(record_type, 'event') }},
        cast(null as varchar) as snapshot_id,
        extracted_at,
        loaded_at,
        cast(null as timestamp) as deleted_at,
        event_id as applied_event_id
    from latest_deltas
    where action <> 'deleted'
),

records_from_snapshot as (
    select
        base_records.*,
        cast(null as varchar) as applied_event_id
    from base_records
    where not exists (
        select 1
        from latest_deltas
        where latest_deltas.object_id = base_records.{{ key }}
    )
)

select * from records_from_snapshot
union all by name
select * from records_from_events
{%- endmacro %}
