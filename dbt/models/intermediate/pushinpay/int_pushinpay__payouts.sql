{#
    PushinPay's day sweeps as payouts (docs/payment-reconciliation-rules.md, "Payouts"):
    'pushinpay:<integration>:<R>', D = R, A = Σ net of the paid payments whose R is that day
    (only days before the as-of date have one: int_pushinpay__payments.payout_id).
#}
with

payments as (
    select * from {{ ref('int_pushinpay__payments') }}
),

final as (
    select
        payout_id,
        tenant_id,
        'pushinpay' as platform,
        integration_id,
        cast(sum(net_amount) as numeric(18, 2)) as payout_amount,
        expected_release_date as payout_date
    from payments
    where payout_id is not null
    group by payout_id, tenant_id, integration_id, expected_release_date
)

select * from final
