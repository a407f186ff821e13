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

    Incremental: a daily build recomputes only the charges with an input loaded since the
    newest it already holds (minus var('staging_reload_hours')): the charge itself, its
    balance transaction, a refund or dispute on it, a payout listing that names its balance
    transaction, or a payout (a status change moves the charge to another payout) that lists
    it. Each such charge is recomputed from all of its inputs; a charge depends on nothing
    else, so the rest stay as they are. last_loaded_at is the newest load among the inputs
    read; changed_at when the build that last wrote the row ran (int_payments reads the rows
    changed since its own last build).

    Planning: nested loops are off for this model's transaction (as for int_asaas__payments and
    the payout matching, DECISIONLOG 41): on the 1M-payment benchmark's daily build PostgreSQL
    re-read the aggregated payout listings once per touched charge (21 s); hash joins: 0.5 s.
#}
{{
    config(
        materialized='incremental',
        pre_hook="set local enable_nestloop = off",
        unique_key=['tenant_id', 'payment_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'payment_id'], 'unique': true},
            {'columns': ['last_loaded_at']},
            {'columns': ['changed_at']},
        ],
    )
}}

with

all_charges as not materialized (
    select * from {{ ref('stg_stripe__charges') }}
),

all_balance_transactions as not materialized (
    select * from {{ ref('stg_stripe__balance_transactions') }}
),

all_refunds as not materialized (
    select * from {{ ref('stg_stripe__refunds') }}
),

all_disputes as not materialized (
    select * from {{ ref('stg_stripe__disputes') }}
),

all_payout_transactions as not materialized (
    select * from {{ ref('stg_stripe__payout_transactions') }}
),

all_payouts as not materialized (
    select * from {{ ref('stg_stripe__payouts') }}
),

{% if is_incremental() -%}
{%- set loaded_since = reload_since('last_loaded_at') %}
touched_charges as (
    select tenant_id, charge_id
    from all_charges
    where loaded_at >= {{ loaded_since }}
    union
    select all_charges.tenant_id, all_charges.charge_id
    from all_balance_transactions
    inner join all_charges
        on all_balance_transactions.tenant_id = all_charges.tenant_id
        and all_balance_transactions.balance_transaction_id
            = all_charges.balance_transaction_id
    where all_balance_transactions.loaded_at >= {{ loaded_since }}
    union
    select tenant_id, charge_id
    from all_refunds
    where loaded_at >= {{ loaded_since }}
    union
    select tenant_id, charge_id
    from all_disputes
    where loaded_at >= {{ loaded_since }}
    union
    select all_charges.tenant_id, all_charges.charge_id
    from all_payout_transactions
    inner join all_charges
        on all_payout_transactions.tenant_id = all_charges.tenant_id
        and all_payout_transactions.balance_transaction_id
            = all_charges.balance_transaction_id
    where all_payout_transactions.loaded_at >= {{ loaded_since }}
    union
    select all_charges.tenant_id, all_charges.charge_id
    from all_payouts
    inner join all_payout_transactions
        on all_payouts.tenant_id = all_payout_transactions.tenant_id
        and all_payouts.payout_id = all_payout_transactions.payout_id
    inner join all_charges
        on all_payout_transactions.tenant_id = all_charges.tenant_id
        and all_payout_transactions.balance_transaction_id
            = all_charges.balance_transaction_id
    where all_payouts.loaded_at >= {{ loaded_since }}
),

charges as (
    select all_charges.*
    from all_charges
    inner join touched_charges
        on all_charges.tenant_id = touched_charges.tenant_id
        and all_charges.charge_id = touched_charges.charge_id
),

{% else -%}
charges as (
    select * from all_charges
),

{% endif -%}
balance_transactions as (
    select all_balance_transactions.*
    from all_balance_transactions
    inner join (select distinct tenant_id, balance_transaction_id from charges) as wanted
        on all_balance_transactions.tenant_id = wanted.tenant_id
        and all_balance_transactions.balance_transaction_id = wanted.balance_transaction_id
),

refunds as (
    select all_refunds.*
    from all_refunds
    inner join charges
        on all_refunds.tenant_id = charges.tenant_id
        and all_refunds.charge_id = charges.charge_id
),

disputes as (
    select all_disputes.*
    from all_disputes
    inner join charges
        on all_disputes.tenant_id = charges.tenant_id
        and all_disputes.charge_id = charges.charge_id
),

payout_transactions as (
    select all_payout_transactions.*
    from all_payout_transactions
    inner join (select distinct tenant_id, balance_transaction_id from charges) as wanted
        on all_payout_transactions.tenant_id = wanted.tenant_id
        and all_payout_transactions.balance_transaction_id = wanted.balance_transaction_id
),

payouts as (
    select all_payouts.*
    from all_payouts
    inner join (select distinct tenant_id, payout_id from payout_transactions) as wanted
        on all_payouts.tenant_id = wanted.tenant_id
        and all_payouts.payout_id = wanted.payout_id
),

refunds_summarised as (
    select
        tenant_id,
        charge_id,
        sum(amount) filter (where coalesce(status, '') not in ('failed', 'canceled'))
            as refunded_amount,
        max(created_at) filter (where coalesce(status, '') not in ('failed', 'canceled'))
            as last_refunded_at,
        max(loaded_at) as last_loaded_at,
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
        max(loaded_at) as last_loaded_at,
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

{#- The newest load among the payout listings that name a balance transaction and their
    payouts, whichever status they have: a payout that fails changes the charge too. #}
payout_listings_loaded as (
    select
        payout_transactions.tenant_id,
        payout_transactions.balance_transaction_id,
        max(greatest(payout_transactions.loaded_at, payouts.loaded_at)) as last_loaded_at
    from payout_transactions
    left join payouts
        on payout_transactions.tenant_id = payouts.tenant_id
        and payout_transactions.payout_id = payouts.payout_id
    group by payout_transactions.tenant_id, payout_transactions.balance_transaction_id
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
        coalesce(disputes_summarised.disputes, '[]'::jsonb) as disputes,
        greatest(
            charges.loaded_at,
            balance_transactions.loaded_at,
            refunds_summarised.last_loaded_at,
            disputes_summarised.last_loaded_at,
            payout_listings_loaded.last_loaded_at
        ) as last_loaded_at
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
    left join payout_listings_loaded
        on charges.tenant_id = payout_listings_loaded.tenant_id
        and charges.balance_transaction_id = payout_listings_loaded.balance_transaction_id
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
        disputes,
        last_loaded_at,
        {{ build_time() }} as changed_at
    from joined
)

select * from final
