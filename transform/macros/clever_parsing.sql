{#- Parsing of Clever's loosely formatted strings. Each macro returns NULL for a value it cannot
    parse (never an error), so one bad SIS value cannot stop a build; the `parsed_where_present`
    test counts those NULLs.

    The SQL that differs between the warehouses is dispatched (adapter.dispatch): the duckdb__
    implementations are the tuned originals (try_cast, regexp_matches, JSON and list functions);
    PostgreSQL has no try_cast, so its implementations check a value with a regular expression
    (and dates by arithmetic) before casting it, and read JSON as jsonb. -#}

{#- A string with surrounding blanks removed, "" as NULL (Clever sends "" for unset enums). -#}
{% macro clever_text(expression) -%}
    nullif(trim(cast({{ expression }} as varchar)), '')
{%- endmacro %}

{#- A term or enrollment date. Clever validates these as "some expression of time" without
    normalizing them: "2015-08-25", "2015-08-25T00:00:00.000Z" and
    "2015-08-25 00:00:00.000000" all mean the date 2015-08-25, so the date is the leading
    YYYY-MM-DD whatever time part follows. -#}
{% macro clever_date(expression) -%}
    {{ return(adapter.dispatch('clever_date', 'clever_warehouse')(expression)) }}
{%- endmacro %}

{% macro duckdb__clever_date(expression) -%}
    case
        when regexp_matches(trim(cast({{ expression }} as varchar)), '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?$')
            then try_cast(left(trim(cast({{ expression }} as varchar)), 10) as date)
    end
{%- endmacro %}

{% macro postgres__clever_date(expression) -%}
    {%- set value = 'trim(cast(' ~ expression ~ ' as varchar))' -%}
    case
        when {{ value }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?$'
            then {{ clever_pg_date('substr(' ~ value ~ ', 1, 4)', 'substr(' ~ value ~ ', 6, 2)', 'substr(' ~ value ~ ', 9, 2)') }}
    end
{%- endmacro %}

{#- A student's date of birth, M/D/YYYY with or without leading zeros ("8/5/2011"). -#}
{% macro clever_dob(expression) -%}
    {{ return(adapter.dispatch('clever_dob', 'clever_warehouse')(expression)) }}
{%- endmacro %}

{% macro duckdb__clever_dob(expression) -%}
    case
        when regexp_matches(trim(cast({{ expression }} as varchar)), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$')
            then cast(try_strptime(trim(cast({{ expression }} as varchar)), '%m/%d/%Y') as date)
    end
{%- endmacro %}

{% macro postgres__clever_dob(expression) -%}
    {%- set value = 'trim(cast(' ~ expression ~ ' as varchar))' -%}
    case
        when {{ value }} ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$'
            then {{ clever_pg_date("split_part(" ~ value ~ ", '/', 3)", "split_part(" ~ value ~ ", '/', 1)", "split_part(" ~ value ~ ", '/', 2)") }}
    end
{%- endmacro %}

{#- PostgreSQL: the date of year, month and day given as digit strings, NULL when there is no
    such day (2015-02-30, month 13, year 0): checked by arithmetic first, so make_date never
    raises, not even when the planner folds constant inputs (a CASE arm whose condition folds to
    false is dropped unevaluated). Days in a month other than February: 30 + ((m + m / 8) % 2). -#}
{% macro clever_pg_date(year, month, day) -%}
    {%- set y = 'cast(' ~ year ~ ' as integer)' -%}
    {%- set m = 'cast(' ~ month ~ ' as integer)' -%}
    {%- set d = 'cast(' ~ day ~ ' as integer)' -%}
    case
        when {{ y }} >= 1 and {{ m }} between 1 and 12 and {{ d }} between 1 and (
            case
                when {{ m }} = 2 and {{ y }} % 4 = 0 and ({{ y }} % 100 <> 0 or {{ y }} % 400 = 0) then 29
                when {{ m }} = 2 then 28
                else 30 + ({{ m }} + {{ m }} / 8) % 2
            end
        )
            then make_date({{ y }}, {{ m }}, {{ d }})
    end
{%- endmacro %}

{#- A text value cast to TIMESTAMP, NULL (not an error) when it is not one: "", garbage, a
    day that does not exist. Also what a raw text column declared without a date-time format
    holds (Clever's "2021-11-25T17:06:03.838Z"). -#}
{% macro clever_try_timestamp(expression) -%}
    {{ return(adapter.dispatch('clever_try_timestamp', 'clever_warehouse')(expression)) }}
{%- endmacro %}

{% macro duckdb__clever_try_timestamp(expression) -%}
    try_cast({{ expression }} as timestamp)
{%- endmacro %}

{#- ISO 8601 only, date and optional time, with an optional zone that is ignored as DuckDB's
    cast does (Clever's times are UTC, "Z"). Nested CASEs: the cast runs only on a checked
    value. -#}
{% macro postgres__clever_try_timestamp(expression) -%}
    {%- set value = 'trim(cast(' ~ expression ~ ' as varchar))' -%}
    case
        when {{ value }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'
            then case
                when {{ clever_pg_date('substr(' ~ value ~ ', 1, 4)', 'substr(' ~ value ~ ', 6, 2)', 'substr(' ~ value ~ ', 9, 2)') }} is not null
                    then cast({{ value }} as timestamp)
            end
    end
{%- endmacro %}

{#- Whether a value is a hash the tap wrote in place of a personal one (pii_mode hash: 64
    lowercase hex digits, the HMAC-SHA256 of the value; see docs/privacy.md). Such a value is
    not a date the SIS got wrong: it cannot parse, on purpose. -#}
{% macro clever_is_pii_hash(expression) -%}
    {{ return(adapter.dispatch('clever_is_pii_hash', 'clever_warehouse')(expression)) }}
{%- endmacro %}

{% macro duckdb__clever_is_pii_hash(expression) -%}
    coalesce(regexp_full_match(cast({{ expression }} as varchar), '[0-9a-f]{64}'), false)
{%- endmacro %}

{% macro postgres__clever_is_pii_hash(expression) -%}
    coalesce(cast({{ expression }} as varchar) ~ '^[0-9a-f]{64}$', false)
{%- endmacro %}

{#- A Clever yes/no flag: "Y" is true, "N" false, "" (unknown) and anything else NULL. -#}
{% macro clever_yn(expression) -%}
    case upper(trim(cast({{ expression }} as varchar)))
        when 'Y' then true
        when 'N' then false
    end
{%- endmacro %}

{#- A Clever timestamp string ("2021-11-25T17:06:03.838Z"), as a UTC TIMESTAMP. -#}
{% macro clever_timestamp(expression) -%}
    {{ return(adapter.dispatch('clever_timestamp', 'clever_warehouse')(expression)) }}
{%- endmacro %}

{% macro duckdb__clever_timestamp(expression) -%}
    try_cast(replace(trim(cast({{ expression }} as varchar)), 'Z', '') as timestamp)
{%- endmacro %}

{% macro postgres__clever_timestamp(expression) -%}
    {{ postgres__clever_try_timestamp(expression) }}
{%- endmacro %}

{#- A number (a school's latitude) as DOUBLE, NULL when the text is not one. -#}
{% macro clever_try_double(expression) -%}
    {{ return(adapter.dispatch('clever_try_double', 'clever_warehouse')(expression)) }}
{%- endmacro %}

{% macro duckdb__clever_try_double(expression) -%}
    try_cast({{ expression }} as double)
{%- endmacro %}

{% macro postgres__clever_try_double(expression) -%}
    case
        when trim(cast({{ expression }} as varchar)) ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$'
            then cast({{ expression }} as double precision)
    end
{%- endmacro %}

{#- The items of a JSON array of strings (a section's `students`, a teacher's `schools`) as a
    list of VARCHAR; NULL or a non-array gives an empty list. -#}
{% macro clever_id_list(json_expression) -%}
    {{ return(adapter.dispatch('clever_id_list', 'clever_warehouse')(json_expression)) }}
{%- endmacro %}

{% macro duckdb__clever_id_list(json_expression) -%}
    coalesce(
        case when json_type({{ json_expression }}) = 'ARRAY'
            then cast(json_extract_string({{ json_expression }}, '$[*]') as varchar[])
        end,
        cast([] as varchar[])
    )
{%- endmacro %}

{#- jsonb in, text[] out, in list order; a number item becomes its digits, as in DuckDB. -#}
{% macro postgres__clever_id_list(json_expression) -%}
    coalesce(
        case when jsonb_typeof({{ json_expression }}) = 'array'
            then array(
                select item
                from jsonb_array_elements_text({{ json_expression }}) with ordinality as items (item, position)
                order by position
            )
        end,
        cast(array[] as text[])
    )
{%- endmacro %}

{#- Whether a JSON value has a member at a path ('$.roles.student'); NULL for a NULL value. -#}
{% macro clever_json_exists(json_expression, path) -%}
    {{ return(adapter.dispatch('clever_json_exists', 'clever_warehouse')(json_expression, path)) }}
{%- endmacro %}

{% macro duckdb__clever_json_exists(json_expression, path) -%}
    json_exists({{ json_expression }}, '{{ path }}')
{%- endmacro %}

{% macro postgres__clever_json_exists(json_expression, path) -%}
    jsonb_path_exists({{ json_expression }}, '{{ path }}')
{%- endmacro %}
