{#
    One row per gateway payment with its reconciliation status, reason and the rule that
    decided it (docs/payment-reconciliation-rules.md, "Status and reason of a payment: first
    match wins", rules 1-15), payment → payout → bank credit. Payout verdicts come from
    int_payment_payouts_matched.

    Readings of the rules document where it leaves a choice (the lead settles them there):
    - a paid payment with no payout and no R (a Stripe charge whose balance transaction is not
      extracted, a PushinPay payment without a contract) is rule 6, awaiting_release: it
      cannot be judged by a release date it does not have;
    - days_late = business_days_between(D, credit date) only for a payout matched late; null
      otherwise;
    - the evidence's refunded_after_payout_id names, for rules 3 and 4, the payout that had
      already paid the sale or payment when the money left (its D before refunded_at's date:
      the rules' "Money that left after it arrived"); the sales platforms' evidence also carries
      the commissions they reported by role and the subscription.

    Incremental (the daily run): only the payments whose status could have changed are
    re-evaluated, and the result equals a full refresh (tests/test_incremental_payments.py):
    - payments int_payments changed after this mart's newest row (changed_at);
    - every payment of a payout whose verdict changed (payout_fingerprint: A, D, deadline,
      match status and step, the matched credit, the candidate credits), or that is new;
    - payments the new as-of date moves on: rule 6 (no payout, awaiting release) once R is
      before it, rule 7 (awaiting payout) once R's deadline is; every other rule holds
      whatever the date until its payment or its payout's verdict changes;
    - every payment of a tenant whose value_tolerance or grace_days changed.
    Rows left alone keep the as_of_date of the run that last evaluated them and changed_at
    of the build that wrote them.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'platform', 'payment_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'analyze_incremental': false},
        indexes=[
            {'columns': ['tenant_id', 'platform', 'payment_id'], 'unique': true},
            {'columns': ['tenant_id', 'status']},
            {'columns': ['payout_id', 'payout_fingerprint']},
            {'columns': ['rule', 'expected_release_date']},
            {'columns': ['changed_at']},
        ],
    )
}}

with

all_payments as not materialized (
    select * from {{ ref('int_payments') }}
),

payouts as (
    select * from {{ ref('int_payment_payouts_matched') }}
),

tolerances as (
    select * from {{ ref('stg_control__tolerances') }}
),

calendar as (
    select * from {{ ref('int_calendar__business_days') }}
),

{#- What a payment's row reads from its payout's verdict, as one md5. #}
payouts_fingerprinted as (
    select
        payouts.*,
        md5(
            concat_ws(
                '|',
                payouts.payout_amount,
                payouts.payout_date,
                payouts.payout_deadline,
                payouts.match_status,
                payouts.match_step,
                payouts.is_on_time,
                payouts.days_late,
                payouts.bank_transaction_id,
                payouts.bank_credit_date,
                payouts.bank_credit_amount,
                cast(payouts.candidate_credits as text)
            )
        ) as payout_fingerprint
    from payouts
),

{% if is_incremental() -%}
changed_payouts as materialized (
    select payouts_fingerprinted.tenant_id, payouts_fingerprinted.platform, payouts_fingerprinted.payout_id
    from payouts_fingerprinted
    where not exists (
        select 1
        from {{ this }} as evaluated
        where evaluated.payout_id = payouts_fingerprinted.payout_id
            and evaluated.payout_fingerprint = payouts_fingerprinted.payout_fingerprint
            and evaluated.tenant_id = payouts_fingerprinted.tenant_id
            and evaluated.platform = payouts_fingerprinted.platform
    )
),

tenants_with_new_terms as (
    select tenants.tenant_id
    from {{ tenants_of(this) }} as tenants
    cross join lateral (
        select evaluated.value_tolerance, evaluated.grace_days
        from {{ this }} as evaluated
        where evaluated.tenant_id = tenants.tenant_id
        limit 1
    ) as applied
    left join tolerances
        on tenants.tenant_id = tolerances.tenant_id
    where (applied.value_tolerance, applied.grace_days) is distinct from (
        cast({{ tenant_tolerance('value_tolerance') }} as numeric(18, 2)),
        {{ tenant_tolerance('grace_days') }}
    )
),

payments_to_evaluate as (
    select tenant_id, platform, payment_id
    from all_payments
    where changed_at > {{ changed_since() }}
    union
    select all_payments.tenant_id, all_payments.platform, all_payments.payment_id
    from all_payments
    inner join changed_payouts
        on all_payments.tenant_id = changed_payouts.tenant_id
        and all_payments.platform = changed_payouts.platform
        and all_payments.payout_id = changed_payouts.payout_id
    union
    select tenant_id, platform, payment_id
    from {{ this }}
    where rule = 6
        and expected_release_date < {{ as_of_date() }}
    union
    select tenant_id, platform, payment_id
    from {{ this }}
    where rule = 7
        and cast(evidence ->> 'release_deadline' as date) < {{ as_of_date() }}
    union
    select evaluated.tenant_id, evaluated.platform, evaluated.payment_id
    from {{ this }} as evaluated
    inner join tenants_with_new_terms
        on evaluated.tenant_id = tenants_with_new_terms.tenant_id
),

payments as (
    select all_payments.*
    from all_payments
    inner join payments_to_evaluate
        on all_payments.tenant_id = payments_to_evaluate.tenant_id
        and all_payments.platform = payments_to_evaluate.platform
        and all_payments.payment_id = payments_to_evaluate.payment_id
),

{% else -%}
payments as (
    select * from all_payments
),

{% endif -%}
payments_with_payouts as (
    select
        payments.*,
        payouts.payout_id as matched_payout_id,
        payouts.payout_amount,
        payouts.payout_date,
        payouts.payout_deadline,
        payouts.match_status,
        payouts.match_step,
        payouts.is_on_time,
        payouts.days_late,
        payouts.bank_transaction_id,
        payouts.bank_credit_date,
        payouts.bank_credit_amount,
        payouts.candidate_credits,
        payouts.payout_fingerprint,
        cast({{ tenant_tolerance('value_tolerance') }} as numeric(18, 2))
            as value_tolerance,
        {{ tenant_tolerance('grace_days') }} as grace_days,
        {{ as_of_date() }} as as_of_date
    from payments
    left join payouts_fingerprinted as payouts
        on payments.tenant_id = payouts.tenant_id
        and payments.platform = payouts.platform
        and payments.payout_id = payouts.payout_id
    left join tolerances
        on payments.tenant_id = tolerances.tenant_id
),

release_deadlines as (
    select
        payments_with_payouts.*,
        case
            when payments_with_payouts.grace_days = 0
                then payments_with_payouts.expected_release_date
            else deadline_day.date_day
        end as release_deadline
    from payments_with_payouts
    left join calendar as release_day
        on payments_with_payouts.expected_release_date = release_day.date_day
    left join calendar as deadline_day
        on deadline_day.is_business_day
        and deadline_day.business_day_index
            = release_day.business_day_index + payments_with_payouts.grace_days
),

{#- Rules 1-15, first match wins. #}
rules_applied as (
    select
        *,
        case
            when payment_status in ('failed', 'expired') then 1
            when payment_status = 'pending' then 2
            when payment_status = 'charged_back' then 3
            when payment_status = 'refunded'
                and matched_payout_id is not null
                and refunded_date > payout_date
                then 4
            when payment_status = 'refunded' then 5
            when payment_status = 'paid' and matched_payout_id is null
                and (expected_release_date is null or expected_release_date >= as_of_date)
                then 6
            when payment_status = 'paid' and matched_payout_id is null
                and release_deadline >= as_of_date
                then 7
            when payment_status = 'paid' and matched_payout_id is null then 8
            when payment_status = 'paid' and match_status = 'matched' and is_on_time then 9
            when payment_status = 'paid' and match_status = 'ambiguous' then 10
            when payment_status = 'paid' and match_status = 'split' then 11
            when payment_status = 'paid' and match_status = 'matched' then 12
            when payment_status = 'paid' and match_status = 'short' then 13
            when payment_status = 'paid' and match_status = 'missing' then 14
            when payment_status = 'paid' then 15
        end as rule
    from release_deadlines
),

final as (
    select
        tenant_id,
        platform,
        integration_id,
        payment_id,
        order_id,
        method,
        installments,
        payment_status,
        gross_amount,
        fee_amount,
        net_amount,
        expected_release_date,
        matched_payout_id as payout_id,
        payout_amount,
        payout_date,
        payout_deadline,
        case when match_status = 'matched' then bank_transaction_id end
            as bank_transaction_id,
        case when match_status = 'matched' then bank_credit_date end as bank_credit_date,
        case when match_status = 'matched' then bank_credit_amount end
            as bank_credit_amount,
        case
            when rule in (1, 5, 9) then 'RECONCILED'
            when rule in (2, 6, 7, 15) then 'PENDING'
            when rule in (10, 11) then 'MANUAL_REVIEW'
            when rule in (3, 4, 8, 12, 13, 14) then 'DISCREPANCY'
        end as status,
        case rule
            when 1 then 'nothing_due'
            when 2 then 'awaiting_payment'
            when 3 then 'chargeback'
            when 4 then 'refunded_after_payout'
            when 5 then 'refunded'
            when 6 then 'awaiting_release'
            when 7 then 'awaiting_payout'
            when 8 then 'not_paid_out'
            when 10 then 'ambiguous_credit'
            when 11 then 'split_credit'
            when 12 then 'late_payout'
            when 13 then 'amount_mismatch'
            when 14 then 'payout_missing'
            when 15 then 'awaiting_payout'
        end as reason,
        rule,
        case when rule = 12 then days_late end as days_late,
        jsonb_build_object(
            'payout_match_status', match_status,
            'payout_match_step', match_step,
            'candidate_credits', coalesce(candidate_credits, '[]'::jsonb),
            'refunds', refunds,
            'disputes', disputes,
            'gateway_net_amount', stated_net_amount,
            'computed_net_amount', net_amount,
            'release_deadline', release_deadline,
            'refunded_date', refunded_date,
            'refunded_after_payout_id',
            case
                when rule in (3, 4) and refunded_date > payout_date then matched_payout_id
            end,
            'coproducer_commission_reported',
            case when platform in ('hotmart', 'kiwify') then coproducer_commission end,
            'affiliate_commission_reported', affiliate_commission_reported,
            'subscription_id', subscription_id,
            'outside_split_scope', split_scope_note,
            'value_tolerance', value_tolerance,
            'grace_days', grace_days
        ) as evidence,
        value_tolerance,
        grace_days,
        as_of_date,
        payout_fingerprint,
        {{ build_time() }} as changed_at
    from rules_applied
)

select * from final
