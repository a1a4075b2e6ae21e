{#- Rows whose combination of `columns` is not unique (dbt_utils' unique_combination_of_columns,
    which cannot be installed here: dbt deps has no access to the package hub). -#}
{% test unique_combination_of_columns(model, columns) %}
select {{ columns | join(', ') }}, count(*) as row_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
