{#
    A date written as text ('2026-10-04', or the date part of '2026-10-04T00:00:00Z') to a
    date, taken as written: no time-zone shift. Empty strings become null.
#}
{% macro to_date(text_expression) -%}
    cast(nullif(left(trim({{ text_expression }}), 10), '') as date)
{%- endmacro %}
