{#
    A reconciled order's batch must have been paid, by its business-day deadline, within
    the tenant's value_tolerance of the batch total (the tolerances the mart applied, from
    control.tolerances or the vars). Order-level difference_amount is zero for reconciled
    rows by construction, so the tolerance is checked where it is decided: on the batch,
    recomputed here from the matched credits rather than read from the batch's own sums.
#}
with

reconciliation as (
    select * from {{ ref('fct_ifood_order_reconciliation') }}
),

payout_batches as (
    select * from {{ ref('int_ifood__payout_batches_reconciled') }}
),

payout_credits as (
    select * from {{ ref('int_ifood__payout_credits_matched') }}
),

credits_on_time as (
    select
        payout_credits.payout_batch_id,
        sum(payout_credits.credit_amount) as paid_on_time_amount
    from payout_credits
    inner join payout_batches
        on payout_credits.payout_batch_id = payout_batches.payout_batch_id
    where payout_credits.posted_date <= payout_batches.deadline_date
    group by payout_credits.payout_batch_id
),

reconciled_outside_rules as (
    select
        reconciliation.tenant_id,
        reconciliation.order_id,
        reconciliation.payout_batch_id,
        payout_batches.expected_amount,
        credits_on_time.paid_on_time_amount,
        payout_batches.deadline_date
    from reconciliation
    left join payout_batches
        on reconciliation.payout_batch_id = payout_batches.payout_batch_id
    left join credits_on_time
        on reconciliation.payout_batch_id = credits_on_time.payout_batch_id
    where reconciliation.status = 'reconciled'
        and not coalesce(
            abs(credits_on_time.paid_on_time_amount - payout_batches.expected_amount)
                <= reconciliation.value_tolerance,
            false
        )
)

select * from reconciled_outside_rules
