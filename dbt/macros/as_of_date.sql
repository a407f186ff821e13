{#
    The reconciliation's "today" as a SQL date expression.

    From `var('as_of_date')` (YYYY-MM-DD), which the DAG sets to the business date on which
    its data interval ends, so reruns of a day give identical marts. Without it, the current
    business date in America/Sao_Paulo.
#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or (value | string | trim) == '' -%}
        (current_timestamp at time zone 'America/Sao_Paulo')::date
    {%- else -%}
        {%- set text = value | string | trim -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
            {{ exceptions.raise_compiler_error(
                "var('as_of_date') must be a date written YYYY-MM-DD, got '" ~ text ~ "'"
            ) }}
        {%- endif -%}
        date '{{ text }}'
    {%- endif -%}
{%- endmacro %}
