{#- Rows whose source text is present but did not parse (the parsed column is NULL): a bad date,
    dob or Y/N value from the SIS. Each such row is one failure, so the count shows in the test
    result; the models keep NULL instead of failing. -#}
{% test parsed_where_present(model, column_name, text_column) %}
select {{ text_column }} as unparsed_text
from {{ model }}
where {{ column_name }} is null
  and nullif(trim(cast({{ text_column }} as varchar)), '') is not null
{% endtest %}
