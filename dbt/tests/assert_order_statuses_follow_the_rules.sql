{#
    Every order's status and reason is the first matching row of the rules table of
    docs/reconciliation-rules.md, recomputed from the mart's inputs rather than from its own
    columns: rules 1-5 from the order's ledger (int_ifood__orders_netted), its sale
    (stg_ifood__sales) and its conciliation deadline counted again on the business-day calendar;
    rules 6-12 from its payout batch's verdict (checked on its own by
    assert_payout_batch_verdicts_follow_the_rules); each reason mapped to the status of its row.
    Fails on swapped precedence, a reason given the wrong status, an order given another
    batch's verdict. Reads the rows the latest build evaluated.
#}
with

rules as (
    {{ reconciliation_rules_table() }}
),

reconciliation as (
    select * from {{ ref('fct_ifood_order_reconciliation') }}
),

orders_netted as (
    select * from {{ ref('int_ifood__orders_netted') }}
),

sales as (
    select * from {{ ref('stg_ifood__sales') }}
),

payout_batches as (
    select * from {{ ref('int_ifood__payout_batches_reconciled') }}
),

calendar as (
    select * from {{ ref('int_calendar__business_days') }}
),

tolerances as (
    select * from {{ source('control', 'tolerances') }}
),

latest as (
    select *
    from reconciliation
    where as_of_date = (select max(as_of_date) from reconciliation)
),

inputs as (
    select
        latest.tenant_id,
        latest.order_id,
        latest.status,
        latest.divergence_reason,
        latest.as_of_date,
        orders_netted.order_id is not null as is_booked,
        coalesce(orders_netted.is_refund_after_payment, false) as is_refund_after_payment,
        coalesce(orders_netted.has_cancellation_event, false) as has_cancellation_event,
        sales.order_id is not null as has_sale,
        case
            when orders_netted.order_id is null then
                {{ nth_business_day_after(
                    'calendar',
                    'sales.sale_date',
                    'coalesce(tolerances.missing_from_conciliation_days, '
                        ~ var('missing_from_conciliation_days') ~ ')',
                ) }}
        end as conciliation_deadline,
        batch_rules.rule_number as batch_rule_number
    from latest
    left join orders_netted
        on latest.tenant_id = orders_netted.tenant_id
        and latest.order_id = orders_netted.order_id
    left join sales
        on latest.tenant_id = sales.tenant_id
        and latest.order_id = sales.order_id
    left join tolerances
        on latest.tenant_id = tolerances.tenant_id
    left join payout_batches
        on orders_netted.payout_batch_id = payout_batches.payout_batch_id
    left join rules as batch_rules
        on batch_rules.rule_number >= 6
        and payout_batches.payout_batch_id is not null
        and batch_rules.divergence_reason is not distinct from payout_batches.batch_reason
),

expected as (
    select
        inputs.*,
        case
            when is_refund_after_payment then 1
            when has_cancellation_event then 2
            when not is_booked and conciliation_deadline < as_of_date then 3
            when not is_booked then 4
            when not has_sale then 5
            {#- An order in no batch (no expected date) has no credit yet. #}
            else coalesce(batch_rule_number, 12)
        end as rule_number
    from inputs
),

mismatched as (
    select
        expected.tenant_id,
        expected.order_id,
        expected.status,
        expected.divergence_reason,
        rules.status as rules_status,
        rules.divergence_reason as rules_reason
    from expected
    inner join rules
        on expected.rule_number = rules.rule_number
    where expected.status is distinct from rules.status
        or expected.divergence_reason is distinct from rules.divergence_reason
)

select * from mismatched
