{#
    An ISO-8601 text timestamp to timestamptz. Text without an offset is read as UTC (the
    providers document their timestamps in UTC), so the result never depends on the
    session's TimeZone setting. Empty strings become null.
#}
{% macro to_utc_timestamp(text_expression) -%}
    case
        when nullif(trim({{ text_expression }}), '') is null then null
        when {{ text_expression }}
            ~ '[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)? ?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$'
            then cast({{ text_expression }} as timestamptz)
        else cast({{ text_expression }} as timestamp) at time zone 'UTC'
    end
{%- endmacro %}
