{#
    One row per payout batch: the non-cancelled orders with financial events of one
    merchant and one expected payment date, which iFood pays with one bank credit.
#}
with

orders_netted as (
    select * from {{ ref('int_ifood__orders_netted') }}
),

batches_aggregated as (
    select
        payout_batch_id,
        tenant_id,
        merchant_id,
        count(*) as order_count,
        cast(sum(expected_net_amount) as numeric(18, 2)) as expected_amount,
        expected_payment_date
    from orders_netted
    where payout_batch_id is not null
    group by payout_batch_id, tenant_id, merchant_id, expected_payment_date
)

select * from batches_aggregated
