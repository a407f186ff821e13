{#
    The twelve rows of docs/reconciliation-rules.md ("Status and reason: first match wins") as a
    relation (rule_number, status, divergence_reason), written out once more for the tests that
    check the models against the documented table rather than against their own CASEs.
#}
{% macro reconciliation_rules_table() -%}
    select *
    from (
        values
            (1, 'cancelled', 'refund_after_payment'),
            (2, 'cancelled', 'cancellation_event'),
            (3, 'sales_only', 'missing_from_conciliation'),
            (4, 'sales_only', 'no_financial_events'),
            (5, 'divergent', 'orphan_financial_event'),
            (6, 'reconciled', null),
            (7, 'divergent', 'anticipation_fee'),
            (8, 'divergent', 'late_payment'),
            (9, 'awaiting_settlement', 'partially_paid'),
            (10, 'divergent', 'value_mismatch'),
            (11, 'divergent', 'payment_missing'),
            (12, 'awaiting_settlement', 'awaiting_payment')
    ) as rules (rule_number, status, divergence_reason)
{%- endmacro %}

{#
    The n-th business day strictly after `day_expression` (n >= 1), or the day itself when
    n = 0, as a correlated subquery over int_calendar__business_days (`calendar_relation`):
    counted by walking the business days, not through business_day_index, so the tests that use
    it check the models' index arithmetic instead of repeating it. Null past the calendar.
#}
{% macro nth_business_day_after(calendar_relation, day_expression, n_expression) -%}
    case
        when {{ n_expression }} = 0 then {{ day_expression }}
        else (
            select business_days.date_day
            from {{ calendar_relation }} as business_days
            where business_days.is_business_day
                and business_days.date_day > {{ day_expression }}
            order by business_days.date_day
            offset greatest({{ n_expression }} - 1, 0)
            limit 1
        )
    end
{%- endmacro %}
