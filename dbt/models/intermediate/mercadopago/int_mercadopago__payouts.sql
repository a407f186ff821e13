{#
    Mercado Pago's day releases as payouts (docs/payment-reconciliation-rules.md, "Payouts"):
    'mercadopago:<integration>:<R>', D = R, and A = the net of the payments released that day
    (int_mercadopago__payments.payout_id) minus the refunds made that day of payments released
    on an earlier day.

    Readings of the rules document where it leaves a choice (the lead settles them there):
    - the document's A counts payments "not refunded before R" while a payment's payout
      requires "not refunded on or before R"; here A is the sum over the payout's own payments
      (on or before), so a payment refunded on its release day adds nothing, as no refund
      debit is taken for it either;
    - a day with refund debits and no release makes no payout (no payment would point at it):
      its debits are not carried to another day.
#}
with

payments as (
    select * from {{ ref('int_mercadopago__payments') }}
),

refunds as (
    select * from {{ ref('int_mercadopago__refunds') }}
),

releases as (
    select
        payout_id,
        tenant_id,
        integration_id,
        expected_release_date as payout_date,
        count(*) as payment_count,
        sum(net_amount) as released_amount
    from payments
    where payout_id is not null
    group by payout_id, tenant_id, integration_id, expected_release_date
),

refund_debits as (
    select
        'mercadopago:' || refunds.integration_id || ':' || refunds.refunded_date
            as payout_id,
        sum(refunds.amount) as refunded_amount,
        count(*) as refund_count
    from refunds
    inner join payments
        on refunds.tenant_id = payments.tenant_id
        and refunds.payment_id = payments.payment_id
    where payments.payout_id is not null
        and payments.expected_release_date < refunds.refunded_date
    group by 1
),

final as (
    select
        releases.payout_id,
        releases.tenant_id,
        'mercadopago' as platform,
        releases.integration_id,
        cast(
            releases.released_amount - coalesce(refund_debits.refunded_amount, 0)
            as numeric(18, 2)
        ) as payout_amount,
        releases.payout_date
    from releases
    left join refund_debits
        on releases.payout_id = refund_debits.payout_id
)

select * from final
