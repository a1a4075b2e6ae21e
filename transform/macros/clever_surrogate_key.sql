{#- A stable key from several columns (the dbt_utils generate_surrogate_key recipe, which cannot
    be installed here: dbt deps has no access to the package hub). NULLs and "" are told apart
    from each other, and columns are separated so ('ab','c') differs from ('a','bc'). -#}
{% macro clever_surrogate_key(expressions) -%}
    md5(concat_ws('|',
        {%- for expression in expressions %}
        coalesce(cast({{ expression }} as varchar), '_dbt_null_')
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    ))
{%- endmacro %}
