{#- Values outside the enums Clever documents, for several columns of a model in one query:
    one row per column and unexpected value (NULL, Clever's "" once cleaned, is accepted).
    Clever may add a value to an enum in a minor version, so these tests warn. columns: a
    mapping of column name to its accepted values. -#}
{% test clever_enum_values(model, columns) %}
{%- for column, values in columns.items() %}
select
    '{{ column }}' as column_name,
    cast({{ column }} as varchar) as unexpected_value,
    count(*) as row_count
from {{ model }}
where {{ column }} is not null
    and cast({{ column }} as varchar) not in (
        {%- for value in values %}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )
{{ clever_group_by_all(['column_name', 'unexpected_value']) }}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{% endtest %}
