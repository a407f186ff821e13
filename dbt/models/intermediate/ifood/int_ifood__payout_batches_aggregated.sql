{#
    One row per payout batch: every financial event with transfer impact of one merchant
    and one expected payment date, which iFood pays together (docs/reconciliation-rules.md).
    Built from ledger entries rather than orders because a batch also carries what other
    days deducted from it: the reversal of an order refunded after it was paid, fees that
    belong to no order. `settlement_item_id` is the batch's `id_saldo` in the reconciliation
    report, the key that ties it to its settlement closing items (the smallest, should the
    report ever disagree). Rebuilt in full from int_ifood__payout_parts (one narrow row per
    order and payout), which is what keeps it cheap.
#}
with

payout_parts as (
    select * from {{ ref('int_ifood__payout_parts') }}
),

batches_aggregated as (
    select
        concat_ws(
            '|', tenant_id, merchant_id, to_char(expected_payment_date, 'YYYY-MM-DD')
        ) as payout_batch_id,
        tenant_id,
        merchant_id,
        expected_payment_date,
        min(settlement_item_id) as settlement_item_id,
        count(order_id) as order_count,
        cast(sum(financial_event_count) as bigint) as financial_event_count,
        cast(sum(amount) as numeric(18, 2)) as expected_amount
    from payout_parts
    where expected_payment_date is not null
    group by tenant_id, merchant_id, expected_payment_date
)

select * from batches_aggregated
