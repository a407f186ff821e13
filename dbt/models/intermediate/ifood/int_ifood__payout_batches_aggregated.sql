{#
    One row per payout batch: every financial event with transfer impact of one merchant
    and one expected payment date, which iFood pays together (docs/reconciliation-rules.md).
    Built from events rather than orders because a batch also carries what other days
    deducted from it: the reversal of an order refunded after it was paid, fees that belong
    to no order. `settlement_item_id` is the batch's `id_saldo` in the reconciliation report,
    the key that ties it to its settlement closing items.
#}
with

financial_events as (
    select * from {{ ref('stg_ifood__financial_events') }}
),

reconciliation_lines as (
    select * from {{ ref('stg_ifood__reconciliation_lines') }}
),

batch_events as (
    select *
    from financial_events
    where has_transfer_impact
        and expected_payment_date is not null
),

{#- Per order first (hash aggregation), then per batch: cheaper than count(distinct). #}
events_per_order as (
    select
        tenant_id,
        merchant_id,
        expected_payment_date,
        order_id,
        count(*) as financial_event_count,
        sum(amount) as amount
    from batch_events
    group by tenant_id, merchant_id, expected_payment_date, order_id
),

events_aggregated as (
    select
        concat_ws(
            '|', tenant_id, merchant_id, to_char(expected_payment_date, 'YYYY-MM-DD')
        ) as payout_batch_id,
        tenant_id,
        merchant_id,
        expected_payment_date,
        count(order_id) as order_count,
        cast(sum(financial_event_count) as bigint) as financial_event_count,
        cast(sum(amount) as numeric(18, 2)) as expected_amount
    from events_per_order
    group by tenant_id, merchant_id, expected_payment_date
),

{#- One id_saldo per batch; should the report ever disagree, the smallest wins, deterministically. #}
report_batch_keys as (
    select
        tenant_id,
        merchant_id,
        expected_payment_date,
        min(settlement_item_id) as settlement_item_id
    from reconciliation_lines
    where settlement_item_id is not null
        and expected_payment_date is not null
    group by tenant_id, merchant_id, expected_payment_date
),

batches_keyed as (
    select
        events_aggregated.payout_batch_id,
        events_aggregated.tenant_id,
        events_aggregated.merchant_id,
        events_aggregated.expected_payment_date,
        report_batch_keys.settlement_item_id,
        events_aggregated.order_count,
        events_aggregated.financial_event_count,
        events_aggregated.expected_amount
    from events_aggregated
    left join report_batch_keys
        on events_aggregated.tenant_id = report_batch_keys.tenant_id
        and events_aggregated.merchant_id = report_batch_keys.merchant_id
        and events_aggregated.expected_payment_date
            = report_batch_keys.expected_payment_date
)

select * from batches_keyed
