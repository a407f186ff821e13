{#
    Stripe payouts (docs/payment-reconciliation-rules.md, "Payouts"): one row per payout
    object, A = `amount` / 100, D = the São Paulo date of `arrival_date`. Payouts that
    `failed` or were `canceled` are left out: they never reach the bank (the charges they
    listed are paid out by a later payout).
#}
with

payouts as (
    select * from {{ ref('stg_stripe__payouts') }}
),

final as (
    select
        payout_id,
        tenant_id,
        'stripe' as platform,
        integration_id,
        amount as payout_amount,
        arrival_date as payout_date
    from payouts
    where coalesce(status, '') not in ('failed', 'canceled')
)

select * from final
