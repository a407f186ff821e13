{#
    A reconciled order's batch credit must be within its tenant's value_tolerance of the
    batch total and dated no later than its grace_days after the expected date (the
    tolerances the mart applied, from control.tolerances or the vars). Order-level
    difference_amount is zero for reconciled rows by construction, so the tolerance is
    checked where it is decided: on the batch.
#}
with

reconciliation as (
    select * from {{ ref('fct_ifood_order_reconciliation') }}
),

payout_batches as (
    select * from {{ ref('int_ifood__payout_batches_matched') }}
),

reconciled_outside_rules as (
    select
        reconciliation.tenant_id,
        reconciliation.order_id,
        reconciliation.payout_batch_id,
        payout_batches.expected_amount,
        payout_batches.credit_amount,
        payout_batches.expected_payment_date,
        payout_batches.paid_date
    from reconciliation
    left join payout_batches
        on reconciliation.payout_batch_id = payout_batches.payout_batch_id
    where reconciliation.status = 'reconciled'
        and not coalesce(
            abs(payout_batches.credit_amount - payout_batches.expected_amount)
                <= reconciliation.value_tolerance
            and payout_batches.paid_date - payout_batches.expected_payment_date
                <= reconciliation.grace_days,
            false
        )
)

select * from reconciled_outside_rules
