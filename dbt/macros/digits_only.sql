{#
    A document number (CNPJ / CPF) with its punctuation stripped: '14.380.200/0001-21'
    becomes '14380200000121'. Null when nothing is left.
#}
{% macro digits_only(text_expression) -%}
    nullif(regexp_replace({{ text_expression }}, '[^0-9]', '', 'g'), '')
{%- endmacro %}
