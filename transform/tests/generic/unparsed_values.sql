{#- Values the district's SIS sent that did not parse: the parsed value is NULL though the text
    is present (a bad date, dob or Y/N flag). The models keep NULL instead of failing; each value
    that did not parse is one row here (field, text as sent), so it shows in the test result.

    fields: a list of {name, parsed, text}: the parsed column and the text it was parsed from,
    struct fields allowed (`student.dob`, read with clever_struct_field). With `list` and
    `item`, they are fields of each item of that list column (`enrollment.start_date` of every
    item of `student.enrollments`), unnested in the select list (DuckDB runs a lateral
    `from t, unnest(...)` as a far slower join).

    A value the tap hashed (pii_mode hash, e.g. a dob) is not counted: it was never meant to
    parse. -#}
{% test unparsed_values(model, fields) %}
{%- for field in fields %}
select
    '{{ field.name }}' as field,
    cast({{ clever_struct_path(field.text) }} as varchar) as unparsed_text
from
    {%- if field.list %} (select unnest({{ clever_struct_path(field.list) }}) as {{ field.item }} from {{ model }}) as items
    {%- else %} {{ model }}
    {%- endif %}
where {{ clever_struct_path(field.parsed) }} is null
    and nullif(trim(cast({{ clever_struct_path(field.text) }} as varchar)), '') is not null
    and not {{ clever_is_pii_hash(clever_struct_path(field.text)) }}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{% endtest %}
