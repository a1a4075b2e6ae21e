{#- How the incremental models follow the changes.

    Every incremental model has a `loaded_at` column: the newest load among the inputs of the
    row (macros/clever_current_records.sql sets it on the current-state models; the marts copy
    their record's). It only grows: the loader stamps every row it writes with the time of the
    load (`_sdc_batched_at`), and the warehouse is built after the loads it reads. So the
    newest `loaded_at` of a model tells which inputs it has already seen, and an incremental
    build only has to recompute the records with a newer input.

    A build replaces whole records (a user, a section, an event), not rows: the model's SQL
    returns the new rows of every record it recomputes plus one marker per record (the record's
    key and a NULL `loaded_at`), and the clever_replace strategy deletes every row of those
    records, then inserts the new rows without the markers. A record that was deleted, or lost
    the role a mart is about, thus loses its rows even though it has no new one.

    What this relies on, and the way out when it does not hold: the raw tables only grow (rows
    deleted from them by hand stay in the models) and the loader's clock does not go back
    between loads (rows stamped earlier than the last build are not seen). Either way,
    `dbt build --full-refresh` (meltano invoke dbt-duckdb:rebuild) rebuilds everything from the
    raw tables; tests/warehouse/test_incremental_builds.py checks that both builds agree. -#}

{#- The `clever_replace` incremental strategy. unique_key: the record's key column (e.g.
    user_id), which need not be unique in the model (fct_user_roles has a row per role). -#}
{% macro get_incremental_clever_replace_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ key }} in (select {{ key }} from {{ batch }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ batch }}
    where loaded_at is not null
{%- endmacro %}

{#- The newest load this model has already seen (-infinity while it is empty). -#}
{% macro clever_last_build() -%}
    (select coalesce(max(loaded_at), '-infinity'::timestamp) from {{ this }})
{%- endmacro %}

{#- For a mart: the rows of its current-state model (`upstream`) to derive rows from. All of
    them in a full build; in an incremental build, those loaded since this model's last build. -#}
{% macro clever_changed_rows(upstream) -%}
    select * from {{ upstream }}
    {%- if is_incremental() %}
    where loaded_at > {{ clever_last_build() }}
    {%- endif %}
{%- endmacro %}

{#- For a mart: its rows (the query in the call block) and, in an incremental build, the
    markers of the records to replace after them (see clever_union_markers):

        {% call clever_replaced_records(ref('int_clever__users_current'), 'user_id', 'user_id') %}
        select ... from users
        {% endcall %}

    Each record this model holds whose row in `upstream` was loaded since the last build, or
    which is no longer in `upstream` at all (deleted, or gone from Clever at a resync); a record
    the model does not hold yet has no rows to replace. upstream_key: the record's key in
    `upstream`; key: in this model. -#}
{% macro clever_replaced_records(upstream, upstream_key, key) -%}
    {%- set rows = caller() -%}
    {%- if is_incremental() %}
    {%- set markers -%}
select distinct
    built.{{ key }},
    cast(null as timestamp) as loaded_at
from {{ this }} as built
where built.{{ key }} in (
        select {{ upstream_key }} from {{ upstream }}
        where loaded_at > {{ clever_last_build() }}
    )
    or not exists (
        select 1 from {{ upstream }} as current_records
        where current_records.{{ upstream_key }} = built.{{ key }}
    )
    {%- endset %}
{{ clever_union_markers(rows, markers, key) }}
    {%- else %}
{{ rows }}
    {%- endif %}
{%- endmacro %}
