{#
    Hotmart's daily deposits as payouts (docs/payment-reconciliation-rules.md, "Sales platforms",
    "Payouts"): Hotmart has no payouts API and ties no deposit to its sales, so a payout is the
    day's computed deposit 'hotmart:' ∥ integration ∥ ':' ∥ R, D = R, and
    A = Σ net of the sales released on R (int_hotmart__payments.payout_id: status paid, refunded
    or charged_back, R before the as-of date, not refunded or charged back on or before R)
      − Σ net of the sales refunded or charged back on that day (São Paulo date of refunded_at)
        that were released before it (the Mercado Pago rule, chargebacks debited like refunds).

    Readings of the rules document where it leaves a choice (dbt/DECISIONLOG.md 48):
    - the debit is the sale's computed net (what its release had added), whole, whatever part of
      it the buyer got back;
    - a day with debits and no release makes no payout (no sale would point at it; the same
      choice as Mercado Pago): its debits are not carried to another day, and a refund dated on a
      weekend or holiday, when Hotmart releases nothing, debits no deposit;
    - A may come out at or below zero when a day's debits exceed its releases: it is kept as
      computed (no bank credit can match it, so the matching reports it).
#}
with

payments as (
    select * from {{ ref('int_hotmart__payments') }}
),

releases as (
    select
        payout_id,
        tenant_id,
        integration_id,
        expected_release_date as payout_date,
        sum(net_amount) as released_amount
    from payments
    where payout_id is not null
    group by payout_id, tenant_id, integration_id, expected_release_date
),

debits as (
    select
        tenant_id,
        'hotmart:' || integration_id || ':' || {{ sao_paulo_date('refunded_at') }} as payout_id,
        sum(net_amount) as debited_amount
    from payments
    where payout_id is not null
        and payment_status in ('refunded', 'charged_back')
        and {{ sao_paulo_date('refunded_at') }} > expected_release_date
    group by 1, 2
),

final as (
    select
        releases.payout_id,
        releases.tenant_id,
        'hotmart' as platform,
        releases.integration_id,
        cast(
            releases.released_amount - coalesce(debits.debited_amount, 0) as numeric(18, 2)
        ) as payout_amount,
        releases.payout_date
    from releases
    left join debits
        on releases.tenant_id = debits.tenant_id
        and releases.payout_id = debits.payout_id
)

select * from final
