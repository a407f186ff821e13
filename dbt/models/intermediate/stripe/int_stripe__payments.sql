{#
    Stripe charges as canonical payments (docs/payment-reconciliation-rules.md, "The canonical
    payment"): one row per charge, with its fee and split from the charge's balance
    transaction, its refunds and disputes, and its payout (the payout whose
    GET /v1/balance_transactions?payout= listing holds the charge's balance transaction).

    Readings of the rules document where it leaves a choice (the lead settles them there):
    - refunds that count toward "refunds summing to amount" are those not `failed` or
      `canceled`; refunded_at is the latest such refund's `created` (the one completing the
      sum), and is set only when the canonical status is `refunded`;
    - a charge without its balance transaction (pending, failed, or not extracted yet) has fee
      and split_withheld 0, no stated net and no release date;
    - payouts that `failed` or were `canceled` never reach the bank: a charge is linked only to
      a payout of another status (its balance transaction returns to the balance and is listed
      by the next payout);
    - dates are São Paulo dates of Stripe's Unix timestamps, except its date fields (`available_on`,
      `arrival_date`: midnight UTC, read as the UTC date).
#}
with

charges as (
    select * from {{ ref('stg_stripe__charges') }}
),

balance_transactions as (
    select * from {{ ref('stg_stripe__balance_transactions') }}
),

refunds as (
    select * from {{ ref('stg_stripe__refunds') }}
),

disputes as (
    select * from {{ ref('stg_stripe__disputes') }}
),

payout_transactions as (
    select * from {{ ref('stg_stripe__payout_transactions') }}
),

payouts as (
    select * from {{ ref('stg_stripe__payouts') }}
),

refunds_summarised as (
    select
        tenant_id,
        charge_id,
        sum(amount) filter (where coalesce(status, '') not in ('failed', 'canceled'))
            as refunded_amount,
        max(created_at) filter (where coalesce(status, '') not in ('failed', 'canceled'))
            as last_refunded_at,
        jsonb_agg(
            jsonb_build_object(
                'refund_id', refund_id,
                'amount', amount,
                'status', status,
                'created_at', created_at
            )
            order by created_at, refund_id
        ) as refunds
    from refunds
    group by tenant_id, charge_id
),

disputes_summarised as (
    select
        tenant_id,
        charge_id,
        bool_or(status is distinct from 'won') as has_dispute_not_won,
        jsonb_agg(
            jsonb_build_object(
                'dispute_id', dispute_id,
                'amount', amount,
                'status', status,
                'reason', reason,
                'created_at', created_at
            )
            order by created_at, dispute_id
        ) as disputes
    from disputes
    group by tenant_id, charge_id
),

balance_transaction_payouts as (
    select distinct on (payout_transactions.tenant_id, payout_transactions.balance_transaction_id)
        payout_transactions.tenant_id,
        payout_transactions.balance_transaction_id,
        payout_transactions.payout_id
    from payout_transactions
    inner join payouts
        on payout_transactions.tenant_id = payouts.tenant_id
        and payout_transactions.payout_id = payouts.payout_id
    where coalesce(payouts.status, '') not in ('failed', 'canceled')
    order by
        payout_transactions.tenant_id,
        payout_transactions.balance_transaction_id,
        payouts.arrival_date desc,
        payout_transactions.payout_id
),

joined as (
    select
        charges.tenant_id,
        'stripe' as platform,
        charges.integration_id,
        charges.charge_id as payment_id,
        charges.order_id,
        charges.product_id,
        charges.affiliate_id,
        case charges.payment_method_type
            when 'card' then 'card'
            when 'pix' then 'pix'
            when 'boleto' then 'boleto'
            else charges.payment_method_type
        end as method,
        coalesce(charges.installment_count, 1) as installments,
        charges.status as gateway_status,
        case
            when disputes_summarised.has_dispute_not_won then 'charged_back'
            when refunds_summarised.refunded_amount >= charges.amount then 'refunded'
            when charges.status = 'succeeded' then 'paid'
            when charges.status = 'pending' then 'pending'
            when charges.status = 'failed' then 'failed'
        end as payment_status,
        charges.amount as gross_amount,
        coalesce(balance_transactions.processing_fee_amount, 0) as fee_amount,
        'gateway' as fee_source,
        coalesce(balance_transactions.application_fee_amount, 0) as split_withheld_amount,
        balance_transactions.net_amount as stated_net_amount,
        case when charges.status = 'succeeded' then charges.created_at end as paid_at,
        refunds_summarised.last_refunded_at,
        refunds_summarised.refunded_amount,
        balance_transactions.available_on_date as expected_release_date,
        balance_transaction_payouts.payout_id,
        coalesce(refunds_summarised.refunds, '[]'::jsonb) as refunds,
        coalesce(disputes_summarised.disputes, '[]'::jsonb) as disputes
    from charges
    left join balance_transactions
        on charges.tenant_id = balance_transactions.tenant_id
        and charges.balance_transaction_id = balance_transactions.balance_transaction_id
    left join refunds_summarised
        on charges.tenant_id = refunds_summarised.tenant_id
        and charges.charge_id = refunds_summarised.charge_id
    left join disputes_summarised
        on charges.tenant_id = disputes_summarised.tenant_id
        and charges.charge_id = disputes_summarised.charge_id
    left join balance_transaction_payouts
        on charges.tenant_id = balance_transaction_payouts.tenant_id
        and charges.balance_transaction_id = balance_transaction_payouts.balance_transaction_id
),

final as (
    select
        tenant_id,
        platform,
        integration_id,
        payment_id,
        order_id,
        product_id,
        affiliate_id,
        method,
        installments,
        gateway_status,
        payment_status,
        cast(gross_amount as numeric(18, 2)) as gross_amount,
        cast(fee_amount as numeric(18, 2)) as fee_amount,
        fee_source,
        cast(split_withheld_amount as numeric(18, 2)) as split_withheld_amount,
        cast(gross_amount - fee_amount - split_withheld_amount as numeric(18, 2))
            as net_amount,
        cast(stated_net_amount as numeric(18, 2)) as stated_net_amount,
        paid_at,
        case when payment_status = 'refunded' then last_refunded_at end as refunded_at,
        expected_release_date,
        payout_id,
        refunds,
        disputes
    from joined
)

select * from final
