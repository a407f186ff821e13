{#
    True when a financial event's name or description says it reverses an order:
    cancel (CANCELLATION, cancelamento, cancelled...) or estorno, in any case.
#}
{% macro is_cancellation(name_expression, description_expression) -%}
    coalesce(
        concat_ws(' ', {{ name_expression }}, {{ description_expression }})
            ~* '(cancel|estorno)',
        false
    )
{%- endmacro %}
