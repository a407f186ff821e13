{#
    Every payout batch with the bank credit that paid it, if any (docs/sandbox-world.md):

    (a) amount rule: a visible credit of the same merchant within the tenant's
        value_tolerance (control.tolerances, else var('value_tolerance')) of the batch total, posted within var('payout_match_window_days') days on or after
        the expected date. Earliest credit first, then the closest amount; one-to-one.
    (b) expected-date rule: for batches still unpaid, an unmatched credit of the same
        merchant posted exactly on the expected date, closest amount first (the batch was
        paid, with a value mismatch); one-to-one.
    (c) otherwise the batch is unpaid.

    Credits dated on or after the as-of date are not visible yet.
#}
with

payout_batches as (
    select * from {{ ref('int_ifood__payout_batches_aggregated') }}
),

ifood_credits as (
    select * from {{ ref('int_banking__ifood_credits_identified') }}
),

tolerances as (
    select * from {{ ref('stg_control__tolerances') }}
),

visible_credits as (
    select *
    from ifood_credits
    where posted_date < {{ as_of_date() }}
),

amount_candidates as (
    select
        payout_batches.payout_batch_id,
        visible_credits.tenant_id,
        visible_credits.transaction_id,
        visible_credits.posted_date
            - payout_batches.expected_payment_date as days_after_expected,
        abs(visible_credits.amount - payout_batches.expected_amount)
            as absolute_difference
    from payout_batches
    inner join visible_credits
        on payout_batches.tenant_id = visible_credits.tenant_id
        and payout_batches.merchant_id = visible_credits.merchant_id
        and visible_credits.posted_date
            between payout_batches.expected_payment_date
            and payout_batches.expected_payment_date
                + {{ var('payout_match_window_days') }}
    left join tolerances
        on payout_batches.tenant_id = tolerances.tenant_id
    where abs(visible_credits.amount - payout_batches.expected_amount)
        <= {{ tenant_tolerance('value_tolerance') }}
),

{{ match_one_to_one(
    candidates='amount_candidates',
    prefix='amount',
    left_key=['payout_batch_id'],
    right_key=['tenant_id', 'transaction_id'],
    order_by='days_after_expected, absolute_difference, transaction_id, payout_batch_id',
) }},

batches_unmatched_by_amount as (
    select payout_batches.*
    from payout_batches
    left join amount_matches
        on payout_batches.payout_batch_id = amount_matches.payout_batch_id
    where amount_matches.payout_batch_id is null
),

credits_unmatched_by_amount as (
    select visible_credits.*
    from visible_credits
    left join amount_matches
        on visible_credits.tenant_id = amount_matches.tenant_id
        and visible_credits.transaction_id = amount_matches.transaction_id
    where amount_matches.transaction_id is null
),

expected_date_candidates as (
    select
        batches_unmatched_by_amount.payout_batch_id,
        credits_unmatched_by_amount.tenant_id,
        credits_unmatched_by_amount.transaction_id,
        abs(
            credits_unmatched_by_amount.amount
            - batches_unmatched_by_amount.expected_amount
        ) as absolute_difference
    from batches_unmatched_by_amount
    inner join credits_unmatched_by_amount
        on batches_unmatched_by_amount.tenant_id
            = credits_unmatched_by_amount.tenant_id
        and batches_unmatched_by_amount.merchant_id
            = credits_unmatched_by_amount.merchant_id
        and batches_unmatched_by_amount.expected_payment_date
            = credits_unmatched_by_amount.posted_date
),

{{ match_one_to_one(
    candidates='expected_date_candidates',
    prefix='expected_date',
    left_key=['payout_batch_id'],
    right_key=['tenant_id', 'transaction_id'],
    order_by='absolute_difference, transaction_id, payout_batch_id',
) }},

matches_combined as (
    select
        payout_batch_id,
        tenant_id,
        transaction_id,
        'amount' as match_rule
    from amount_matches
    union all
    select
        payout_batch_id,
        tenant_id,
        transaction_id,
        'expected_date' as match_rule
    from expected_date_matches
),

batches_matched as (
    select
        payout_batches.payout_batch_id,
        payout_batches.tenant_id,
        payout_batches.merchant_id,
        matches_combined.transaction_id as bank_transaction_id,
        matches_combined.match_rule,
        payout_batches.order_count,
        payout_batches.expected_amount,
        visible_credits.amount as credit_amount,
        cast(
            visible_credits.amount - payout_batches.expected_amount
            as numeric(18, 2)
        ) as difference_amount,
        payout_batches.expected_payment_date,
        visible_credits.posted_date as paid_date
    from payout_batches
    left join matches_combined
        on payout_batches.payout_batch_id = matches_combined.payout_batch_id
    left join visible_credits
        on matches_combined.tenant_id = visible_credits.tenant_id
        and matches_combined.transaction_id = visible_credits.transaction_id
        and payout_batches.merchant_id = visible_credits.merchant_id
)

select * from batches_matched
