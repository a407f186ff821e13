{#
    The bank credits that paid each payout batch, one row per (batch, credit). A batch may
    have several: iFood pays some in parts. The rules are docs/reconciliation-rules.md,
    "Which credits pay a batch":

    (a) item rule: a SUCCEED settlement or anticipation item of the batch is paid by the
        visible credit of the same merchant posted on the item's payment date for the
        item's amount (exactly, to the cent); one-to-one.
    (b) for batches with no SUCCEED item (settlements not listed, not extracted, or only
        pending), the credits no item pays are matched as iFood pays a batch in one credit:
        - amount rule: within the tenant's value_tolerance of the batch total, posted on or
          after the expected date, however late (no window: a late credit is late_payment,
          never payment_missing); fewest days after the expected date first, then the
          closest amount; one-to-one;
        - expected-date rule: for batches still unpaid, a credit posted exactly on the
          expected date, closest amount first (paid, with a value mismatch); one-to-one.

    Credits dated on or after the as-of date are not visible yet.
#}
with

payout_batches as (
    select * from {{ ref('int_ifood__payout_batches_aggregated') }}
),

payout_items as (
    select * from {{ ref('int_ifood__payout_items') }}
),

ifood_credits as (
    select * from {{ ref('int_ifood__bank_credits') }}
),

tolerances as (
    select * from {{ ref('stg_control__tolerances') }}
),

visible_credits as (
    select *
    from ifood_credits
    where posted_date < {{ as_of_date() }}
),

succeeded_items as (
    select *
    from payout_items
    where status = 'SUCCEED'
        and payout_batch_id is not null
),

item_candidates as (
    select
        succeeded_items.payout_batch_id,
        succeeded_items.item_source,
        succeeded_items.item_id,
        visible_credits.tenant_id,
        visible_credits.transaction_id
    from succeeded_items
    inner join visible_credits
        on succeeded_items.tenant_id = visible_credits.tenant_id
        and succeeded_items.merchant_id = visible_credits.merchant_id
        and succeeded_items.payment_date = visible_credits.posted_date
        and succeeded_items.paid_amount = visible_credits.amount
),

{{ match_one_to_one(
    candidates='item_candidates',
    prefix='item',
    left_key=['item_source', 'item_id'],
    right_key=['tenant_id', 'transaction_id'],
    order_by='item_source, item_id, transaction_id',
) }},

batches_without_items as (
    select payout_batches.*
    from payout_batches
    left join succeeded_items
        on payout_batches.payout_batch_id = succeeded_items.payout_batch_id
    where succeeded_items.payout_batch_id is null
),

credits_left as (
    select visible_credits.*
    from visible_credits
    left join item_matches
        on visible_credits.tenant_id = item_matches.tenant_id
        and visible_credits.transaction_id = item_matches.transaction_id
    where item_matches.transaction_id is null
),

amount_candidates as (
    select
        batches_without_items.payout_batch_id,
        credits_left.tenant_id,
        credits_left.transaction_id,
        credits_left.posted_date
            - batches_without_items.expected_payment_date as days_after_expected,
        abs(credits_left.amount - batches_without_items.expected_amount)
            as absolute_difference
    from batches_without_items
    inner join credits_left
        on batches_without_items.tenant_id = credits_left.tenant_id
        and batches_without_items.merchant_id = credits_left.merchant_id
        and credits_left.posted_date >= batches_without_items.expected_payment_date
    left join tolerances
        on batches_without_items.tenant_id = tolerances.tenant_id
    where abs(credits_left.amount - batches_without_items.expected_amount)
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
    select batches_without_items.*
    from batches_without_items
    left join amount_matches
        on batches_without_items.payout_batch_id = amount_matches.payout_batch_id
    where amount_matches.payout_batch_id is null
),

credits_unmatched_by_amount as (
    select credits_left.*
    from credits_left
    left join amount_matches
        on credits_left.tenant_id = amount_matches.tenant_id
        and credits_left.transaction_id = amount_matches.transaction_id
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
        item_source || '_item' as match_rule,
        item_id
    from item_matches
    union all
    select
        payout_batch_id,
        tenant_id,
        transaction_id,
        'amount' as match_rule,
        null as item_id
    from amount_matches
    union all
    select
        payout_batch_id,
        tenant_id,
        transaction_id,
        'expected_date' as match_rule,
        null as item_id
    from expected_date_matches
),

credits_matched as (
    select
        matches_combined.payout_batch_id,
        matches_combined.tenant_id,
        visible_credits.merchant_id,
        matches_combined.transaction_id as bank_transaction_id,
        matches_combined.match_rule,
        matches_combined.item_id,
        visible_credits.amount as credit_amount,
        visible_credits.posted_date
    from matches_combined
    inner join visible_credits
        on matches_combined.tenant_id = visible_credits.tenant_id
        and matches_combined.transaction_id = visible_credits.transaction_id
)

select * from credits_matched
