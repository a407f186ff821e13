{#
    Every payout batch's verdict is what rules 6-12 of docs/reconciliation-rules.md give,
    recomputed here from the batch model's inputs rather than read from its own sums: the
    matched credits (visible by construction), the deadline counted again on the business-day
    calendar, the tenant's tolerances from control.tolerances, the SUCCEED anticipation items'
    fees and the as-of date the batch was built with; first match wins, and the reason maps to
    its status as the rules table says. Fails on a swapped rule, a tolerance or deadline
    applied wrong, a fee ignored, a status mapped wrong.
#}
with

rules as (
    {{ reconciliation_rules_table() }}
),

payout_batches as (
    select * from {{ ref('int_ifood__payout_batches_reconciled') }}
),

payout_credits as (
    select * from {{ ref('int_ifood__payout_credits_matched') }}
),

payout_items as (
    select * from {{ ref('int_ifood__payout_items') }}
),

calendar as (
    select * from {{ ref('int_calendar__business_days') }}
),

tolerances as (
    select * from {{ source('control', 'tolerances') }}
),

terms as (
    select
        payout_batches.payout_batch_id,
        payout_batches.expected_payment_date,
        payout_batches.expected_amount,
        payout_batches.as_of_date,
        coalesce(tolerances.value_tolerance, {{ var('value_tolerance') }}) as tolerance,
        {{ nth_business_day_after(
            'calendar',
            'payout_batches.expected_payment_date',
            'coalesce(tolerances.grace_days, ' ~ var('grace_days') ~ ')',
        ) }} as deadline
    from payout_batches
    left join tolerances
        on payout_batches.tenant_id = tolerances.tenant_id
),

credits as (
    select
        terms.payout_batch_id,
        count(*) filter (where payout_credits.posted_date <= terms.deadline) as on_time,
        count(*) filter (where payout_credits.posted_date > terms.deadline) as late,
        coalesce(
            sum(payout_credits.credit_amount)
                filter (where payout_credits.posted_date <= terms.deadline),
            0
        ) as paid_on_time
    from terms
    inner join payout_credits
        on terms.payout_batch_id = payout_credits.payout_batch_id
    group by terms.payout_batch_id
),

anticipations as (
    select
        payout_batch_id,
        sum(coalesce(fee_amount, 0)) as fee
    from payout_items
    where item_source = 'anticipation'
        and status = 'SUCCEED'
    group by payout_batch_id
),

expected as (
    select
        terms.payout_batch_id,
        case
            when coalesce(credits.on_time, 0) > 0
                and abs(credits.paid_on_time - terms.expected_amount) <= terms.tolerance
                then 6
            when anticipations.payout_batch_id is not null
                and abs(
                    coalesce(credits.paid_on_time, 0)
                    - (terms.expected_amount - anticipations.fee)
                ) <= terms.tolerance
                then 7
            when coalesce(credits.late, 0) > 0 then 8
            when coalesce(credits.paid_on_time, 0) > 0
                and credits.paid_on_time < terms.expected_amount - terms.tolerance
                and terms.deadline >= terms.as_of_date
                then 9
            when coalesce(credits.on_time, 0) > 0 then 10
            when terms.deadline < terms.as_of_date then 11
            else 12
        end as rule_number
    from terms
    left join credits
        on terms.payout_batch_id = credits.payout_batch_id
    left join anticipations
        on terms.payout_batch_id = anticipations.payout_batch_id
),

mismatched as (
    select
        payout_batches.payout_batch_id,
        payout_batches.batch_status,
        payout_batches.batch_reason,
        rules.status as rules_status,
        rules.divergence_reason as rules_reason
    from payout_batches
    inner join expected
        on payout_batches.payout_batch_id = expected.payout_batch_id
    inner join rules
        on expected.rule_number = rules.rule_number
    where payout_batches.batch_status is distinct from rules.status
        or payout_batches.batch_reason is distinct from rules.divergence_reason
)

select * from mismatched
