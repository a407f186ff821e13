{#
    A tenant's tolerance: its override from stg_control__tolerances (joined by the caller
    under `relation`), else the project-wide var of the same name.
#}
{% macro tenant_tolerance(name, relation='tolerances') -%}
    coalesce({{ relation }}.{{ name }}, {{ var(name) }})
{%- endmacro %}
