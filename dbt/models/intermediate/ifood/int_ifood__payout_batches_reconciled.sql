{#
    One row per payout batch with what was paid, when, and the payment rules' verdict
    (rules 6-12 of docs/reconciliation-rules.md), which every order of the batch inherits
    unless an order-level rule (cancellation, no events, no sale) comes first.

    Dates are counted in business days (int_calendar__business_days): the deadline is the
    tenant's grace_days-th business day after the expected date, so a payout due on the
    Friday before Carnival and credited on Wednesday is on time.
#}
with

payout_batches as (
    select * from {{ ref('int_ifood__payout_batches_aggregated') }}
),

payout_items as (
    select * from {{ ref('int_ifood__payout_items') }}
),

payout_credits as (
    select * from {{ ref('int_ifood__payout_credits_matched') }}
),

calendar as (
    select * from {{ ref('int_calendar__business_days') }}
),

tolerances as (
    select * from {{ ref('stg_control__tolerances') }}
),

batches_with_terms as (
    select
        payout_batches.*,
        cast({{ tenant_tolerance('value_tolerance') }} as numeric(18, 2))
            as value_tolerance,
        {{ tenant_tolerance('grace_days') }} as grace_days,
        {{ as_of_date() }} as as_of_date
    from payout_batches
    left join tolerances
        on payout_batches.tenant_id = tolerances.tenant_id
),

deadlines as (
    select
        batches_with_terms.*,
        case
            when batches_with_terms.grace_days = 0
                then batches_with_terms.expected_payment_date
            else deadline_day.date_day
        end as deadline_date,
        expected_day.business_day_index as expected_business_day_index
    from batches_with_terms
    left join calendar as expected_day
        on batches_with_terms.expected_payment_date = expected_day.date_day
    left join calendar as deadline_day
        on deadline_day.is_business_day
        and deadline_day.business_day_index
            = expected_day.business_day_index + batches_with_terms.grace_days
),

credits_summarised as (
    select
        payout_credits.payout_batch_id,
        cast(
            coalesce(
                sum(payout_credits.credit_amount)
                    filter (where payout_credits.posted_date <= deadlines.deadline_date),
                0
            ) as numeric(18, 2)
        ) as paid_on_time_amount,
        cast(sum(payout_credits.credit_amount) as numeric(18, 2)) as paid_amount,
        count(*) filter (where payout_credits.posted_date <= deadlines.deadline_date)
            as on_time_credit_count,
        count(*) filter (where payout_credits.posted_date > deadlines.deadline_date)
            as late_credit_count,
        max(payout_credits.posted_date) as paid_date,
        jsonb_agg(
            jsonb_build_object(
                'transaction_id', payout_credits.bank_transaction_id,
                'amount', payout_credits.credit_amount,
                'posted_date', payout_credits.posted_date,
                'match_rule', payout_credits.match_rule,
                'payout_item_id', payout_credits.item_id
            )
            order by payout_credits.posted_date, payout_credits.bank_transaction_id
        ) as bank_credits
    from payout_credits
    inner join deadlines
        on payout_credits.payout_batch_id = deadlines.payout_batch_id
    group by payout_credits.payout_batch_id
),

items_summarised as (
    select
        payout_batch_id,
        bool_or(item_source = 'anticipation' and status = 'SUCCEED') as is_anticipated,
        cast(
            coalesce(
                sum(fee_amount)
                    filter (where item_source = 'anticipation' and status = 'SUCCEED'),
                0
            ) as numeric(18, 2)
        ) as anticipation_fee_amount,
        jsonb_agg(
            jsonb_build_object(
                'source', item_source,
                'id', item_id,
                'type', item_type,
                'status', status,
                'amount', paid_amount,
                'payment_date', payment_date,
                'original_amount', original_amount,
                'fee_amount', fee_amount,
                'original_payment_date', original_payment_date
            )
            order by payment_date, item_source, item_id
        ) as payout_items
    from payout_items
    where payout_batch_id is not null
    group by payout_batch_id
),

batches_joined as (
    select
        deadlines.*,
        cast(coalesce(credits_summarised.paid_on_time_amount, 0) as numeric(18, 2))
            as paid_on_time_amount,
        credits_summarised.paid_amount,
        coalesce(credits_summarised.on_time_credit_count, 0) as on_time_credit_count,
        coalesce(credits_summarised.late_credit_count, 0) as late_credit_count,
        credits_summarised.paid_date,
        coalesce(items_summarised.is_anticipated, false) as is_anticipated,
        cast(coalesce(items_summarised.anticipation_fee_amount, 0) as numeric(18, 2))
            as anticipation_fee_amount,
        credits_summarised.bank_credits,
        items_summarised.payout_items
    from deadlines
    left join credits_summarised
        on deadlines.payout_batch_id = credits_summarised.payout_batch_id
    left join items_summarised
        on deadlines.payout_batch_id = items_summarised.payout_batch_id
),

{#- Rules 6-12, first match wins. #}
reasons_assigned as (
    select
        *,
        case
            when on_time_credit_count > 0
                and abs(paid_on_time_amount - expected_amount) <= value_tolerance
                then null
            when is_anticipated
                and on_time_credit_count > 0
                and abs(
                    paid_on_time_amount - (expected_amount - anticipation_fee_amount)
                ) <= value_tolerance
                then 'anticipation_fee'
            when late_credit_count > 0 then 'late_payment'
            when on_time_credit_count > 0
                and paid_on_time_amount < expected_amount - value_tolerance
                and deadline_date >= as_of_date
                then 'partially_paid'
            when on_time_credit_count > 0 then 'value_mismatch'
            when deadline_date < as_of_date then 'payment_missing'
            else 'awaiting_payment'
        end as batch_reason
    from batches_joined
),

days_counted as (
    select
        reasons_assigned.*,
        case
            when reasons_assigned.paid_date is not null
                then greatest(
                    paid_day.business_day_index
                    - reasons_assigned.expected_business_day_index,
                    0
                )
            when reasons_assigned.expected_payment_date < reasons_assigned.as_of_date
                then greatest(
                    yesterday.business_day_index
                    - reasons_assigned.expected_business_day_index,
                    0
                )
        end as days_late
    from reasons_assigned
    left join calendar as paid_day
        on reasons_assigned.paid_date = paid_day.date_day
    left join calendar as yesterday
        on reasons_assigned.as_of_date - 1 = yesterday.date_day
),

final as (
    select
        payout_batch_id,
        tenant_id,
        merchant_id,
        settlement_item_id,
        order_count,
        financial_event_count,
        expected_amount,
        expected_payment_date,
        deadline_date,
        paid_on_time_amount,
        paid_amount,
        cast(coalesce(paid_amount, 0) - expected_amount as numeric(18, 2))
            as difference_amount,
        on_time_credit_count,
        late_credit_count,
        paid_date,
        days_late,
        is_anticipated,
        anticipation_fee_amount,
        case
            when batch_reason is null then 'reconciled'
            when batch_reason in ('partially_paid', 'awaiting_payment')
                then 'awaiting_settlement'
            else 'divergent'
        end as batch_status,
        batch_reason,
        value_tolerance,
        grace_days,
        as_of_date,
        coalesce(bank_credits, '[]'::jsonb) as bank_credits,
        coalesce(payout_items, '[]'::jsonb) as payout_items,
        {#- Everything an order row takes from its batch except the as-of date: when it
            changes, the incremental mart re-evaluates the batch's orders. #}
        md5(
            cast(
                row(
                    settlement_item_id, order_count, expected_amount, deadline_date,
                    paid_amount, paid_date, days_late, is_anticipated,
                    anticipation_fee_amount, batch_reason, value_tolerance, grace_days,
                    bank_credits, payout_items
                ) as text
            )
        ) as verdict_fingerprint
    from days_counted
)

select * from final
