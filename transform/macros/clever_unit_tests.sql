{#- Unit test fixtures on PostgreSQL. dbt casts each fixture value to its column's type as
    information_schema.columns names it, and names every array type "ARRAY", which is not a
    type PostgreSQL can cast to. The project's arrays are all text[] (lists of ids and roles),
    written in the fixtures as DuckDB writes lists ('[district_admin, teacher]'): the same
    fixture serves both warehouses. Overrides dbt's safe_cast, which only unit tests use here. -#}
{% macro postgres__safe_cast(field, type) -%}
    {%- if type | lower == 'array' -%}
        cast(translate({{ field }}, '[]', '{}') as text[])
    {%- else -%}
        cast({{ field }} as {{ type }})
    {%- endif -%}
{%- endmacro %}
