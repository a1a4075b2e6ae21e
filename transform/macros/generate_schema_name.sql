{#- Use a model's custom schema as it is (`analytics`, not `main_analytics`): the marts' schema
    is part of the project's interface. Models without one go to the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
