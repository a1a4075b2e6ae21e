{#- SQL that DuckDB and PostgreSQL spell differently, one dispatched macro (adapter.dispatch)
    each: the duckdb__ implementation is the original DuckDB SQL, the postgres__ one its
    equivalent. The models call these, never test the warehouse themselves. -#}

{#- The first row of each group (`partition_by`) in `order_by` order, from `relation` (a CTE
    name or a parenthesized query), filtered by `where` first. -#}
{% macro clever_first_rows(relation, partition_by, order_by, where=none) -%}
    {{ return(adapter.dispatch('clever_first_rows', 'clever_warehouse')(relation, partition_by, order_by, where)) }}
{%- endmacro %}

{% macro duckdb__clever_first_rows(relation, partition_by, order_by, where=none) -%}
    select *
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
    qualify row_number() over (
        partition by {{ partition_by }}
        order by {{ order_by }}
    ) = 1
{%- endmacro %}

{% macro postgres__clever_first_rows(relation, partition_by, order_by, where=none) -%}
    select distinct on ({{ partition_by }}) *
    from {{ relation }} as candidates
    {%- if where %}
    where {{ where }}
    {%- endif %}
    order by {{ partition_by }}, {{ order_by }}
{%- endmacro %}

{#- The value of `arg` on the row with the greatest `val` (rows with a NULL `val` left out). -#}
{% macro clever_arg_max(arg, val) -%}
    {{ return(adapter.dispatch('clever_arg_max', 'clever_warehouse')(arg, val)) }}
{%- endmacro %}

{% macro duckdb__clever_arg_max(arg, val) -%}
    arg_max({{ arg }}, {{ val }})
{%- endmacro %}

{% macro postgres__clever_arg_max(arg, val) -%}
    (array_agg({{ arg }} order by {{ val }} desc) filter (where {{ val }} is not null))[1]
{%- endmacro %}

{#- The rows of two CTEs that have the same columns; `union all by name` in DuckDB. In
    PostgreSQL, which unions by position, the caller lists both sides' columns in one order. -#}
{% macro clever_union_all_by_name(left, right) -%}
    {{ return(adapter.dispatch('clever_union_all_by_name', 'clever_warehouse')(left, right)) }}
{%- endmacro %}

{% macro duckdb__clever_union_all_by_name(left, right) -%}
    select * from {{ left }}
    union all by name
    select * from {{ right }}
{%- endmacro %}

{% macro postgres__clever_union_all_by_name(left, right) -%}
    select * from {{ left }}
    union all
    select * from {{ right }}
{%- endmacro %}

{#- `relation_alias.*` but the columns `except`: DuckDB's `exclude`. PostgreSQL has none, so
    there the relation's `columns` are listed, but those. -#}
{% macro clever_star_except(relation_alias, except, columns) -%}
    {{ return(adapter.dispatch('clever_star_except', 'clever_warehouse')(relation_alias, except, columns)) }}
{%- endmacro %}

{% macro duckdb__clever_star_except(relation_alias, except, columns) -%}
    {{ relation_alias }}.* exclude ({{ except | join(', ') }})
{%- endmacro %}

{% macro default__clever_star_except(relation_alias, except, columns) -%}
    {%- for column in columns if column not in except -%}
        {{ relation_alias }}.{{ column }}{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#- A query's rows followed by markers (macros/clever_incremental.sql), which have two columns:
    the record's `key` and a NULL `loaded_at`. DuckDB unions them by name. PostgreSQL has no
    union by name: a full join on (key, loaded_at), which never matches (a marker's loaded_at
    is NULL), gives the same rows, the others' columns NULL; the key and loaded_at come first,
    and clever_replace inserts by column name. -#}
{% macro clever_union_markers(rows, markers, key) -%}
    {{ return(adapter.dispatch('clever_union_markers', 'clever_warehouse')(rows, markers, key)) }}
{%- endmacro %}

{% macro duckdb__clever_union_markers(rows, markers, key) -%}
{{ rows }}
union all by name
{{ markers }}
{%- endmacro %}

{% macro postgres__clever_union_markers(rows, markers, key) -%}
select *
from (
{{ rows }}
) as new_rows
full join (
{{ markers }}
) as markers
    using ({{ key }}, loaded_at)
{%- endmacro %}

{#- How many items a list has. -#}
{% macro clever_list_length(list) -%}
    {{ return(adapter.dispatch('clever_list_length', 'clever_warehouse')(list)) }}
{%- endmacro %}

{% macro duckdb__clever_list_length(list) -%}
    len({{ list }})
{%- endmacro %}

{#- bigint, as DuckDB's len. -#}
{% macro postgres__clever_list_length(list) -%}
    cast(cardinality({{ list }}) as bigint)
{%- endmacro %}

{#- The positions of a list's items (1, 2, ...), a row each, in step with unnest(list) in the
    same select list. -#}
{% macro clever_list_positions(list) -%}
    {{ return(adapter.dispatch('clever_list_positions', 'clever_warehouse')(list)) }}
{%- endmacro %}

{% macro duckdb__clever_list_positions(list) -%}
    generate_subscripts({{ list }}, 1)
{%- endmacro %}

{#- bigint, as DuckDB's generate_subscripts. -#}
{% macro postgres__clever_list_positions(list) -%}
    cast(generate_subscripts({{ list }}, 1) as bigint)
{%- endmacro %}

{#- Whether a list holds a value (false when it does not, even if it holds a NULL). -#}
{% macro clever_list_contains(list, element) -%}
    {{ return(adapter.dispatch('clever_list_contains', 'clever_warehouse')(list, element)) }}
{%- endmacro %}

{% macro duckdb__clever_list_contains(list, element) -%}
    list_contains({{ list }}, {{ element }})
{%- endmacro %}

{% macro postgres__clever_list_contains(list, element) -%}
    ({{ list }} @> array[{{ element }}])
{%- endmacro %}

{#- GROUP BY every column that is not an aggregate: `expressions`, where DuckDB has `all`. -#}
{% macro clever_group_by_all(expressions) -%}
    {{ return(adapter.dispatch('clever_group_by_all', 'clever_warehouse')(expressions)) }}
{%- endmacro %}

{% macro duckdb__clever_group_by_all(expressions) -%}
    group by all
{%- endmacro %}

{% macro default__clever_group_by_all(expressions) -%}
    group by {{ expressions | join(', ') }}
{%- endmacro %}

{#- `materialized` before a CTE's body on PostgreSQL, which otherwise inlines a CTE read once
    and so repeats its expressions in every expression that reads them (the users' parsed
    roles: several times slower); nothing on DuckDB, which plans its CTEs itself. -#}
{% macro clever_materialized_cte() -%}
    {{ return(adapter.dispatch('clever_materialized_cte', 'clever_warehouse')()) }}
{%- endmacro %}

{% macro default__clever_materialized_cte() -%}
{%- endmacro %}

{% macro postgres__clever_materialized_cte() -%}
    materialized
{%- endmacro %}
