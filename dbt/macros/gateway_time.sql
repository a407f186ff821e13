{#
    Time helpers for the payment gateways (docs/payment-reconciliation-rules.md: "Dates are São
    Paulo business dates of the timestamps the gateways give").
#}

{#- A Unix timestamp in seconds (Stripe `created`, `arrival_date`, `available_on`) as text, to
    timestamptz. Empty strings become null. #}
{% macro from_unix_seconds(text_expression) -%}
    to_timestamp(cast(nullif(trim({{ text_expression }}), '') as bigint))
{%- endmacro %}

{#- A text timestamp the gateway writes in Brazilian local time without an offset (Asaas:
    '2026-10-05 14:30:00', or a bare date '2026-10-05'), to timestamptz; text with an offset
    keeps it. A bare date becomes midnight in São Paulo, so its São Paulo date is itself. #}
{% macro from_sao_paulo_text(text_expression) -%}
    case
        when nullif(trim({{ text_expression }}), '') is null then null
        when {{ text_expression }}
            ~ '[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)? ?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$'
            then cast({{ text_expression }} as timestamptz)
        else cast({{ text_expression }} as timestamp) at time zone 'America/Sao_Paulo'
    end
{%- endmacro %}

{#- The São Paulo business date of a timestamptz, whatever the session's time zone. #}
{% macro sao_paulo_date(timestamp_expression) -%}
    cast(({{ timestamp_expression }}) at time zone 'America/Sao_Paulo' as date)
{%- endmacro %}

{#- A date the gateway writes as the Unix timestamp of its midnight UTC (Stripe `available_on`,
    `arrival_date`): its UTC date (docs/payment-reconciliation-rules.md, "Calendar"). #}
{% macro utc_date_of_unix_seconds(text_expression) -%}
    cast(({{ from_unix_seconds(text_expression) }}) at time zone 'UTC' as date)
{%- endmacro %}

{#- An instant the platform writes as integer milliseconds since the Unix epoch (Hotmart's
    `order_date`, `approved_date`, `creation_date`), as text, to timestamptz: exact to the
    millisecond (integer arithmetic on an interval, never a float division). Empty strings become
    null. #}
{% macro from_epoch_millis(text_expression) -%}
    (
        timestamptz '1970-01-01 00:00:00+00'
        + cast(nullif(trim({{ text_expression }}), '') as bigint) * interval '1 millisecond'
    )
{%- endmacro %}
