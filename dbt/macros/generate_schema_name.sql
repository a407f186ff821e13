{#
    Custom schemas are used verbatim: a folder configured with `+schema: staging` lands in
    the schema `staging`, not `<target schema>_staging`. Nodes without a custom schema go
    to the target schema (`analytics`).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
