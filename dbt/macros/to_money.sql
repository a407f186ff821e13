{#
    Money from a JSON text value to numeric(18, 2), never through float.

    Pluggy sends JSON numbers and iFood sends strings ("-3.99"); `->>` yields the exact
    decimal text of both, which is cast straight to numeric. Empty strings become null.
#}
{% macro to_money(text_expression) -%}
    {{ return(adapter.dispatch('to_money', 'conciliador')(text_expression)) }}
{%- endmacro %}

{% macro default__to_money(text_expression) -%}
    cast(nullif(trim({{ text_expression }}), '') as numeric(18, 2))
{%- endmacro %}

{#
    Money sent in integer minor units (Stripe `amount`, PushinPay `value`: cents) to
    numeric(18, 2): the JSON integer's exact text divided by 100, never through float.
#}
{% macro cents_to_money(text_expression) -%}
    cast(cast(nullif(trim({{ text_expression }}), '') as numeric) / 100 as numeric(18, 2))
{%- endmacro %}
