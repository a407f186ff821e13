{#
    What iFood says it paid, per payout batch: the closing items of settlements (repasses)
    and the anticipation items, one row each, tied to the batch they pay.

    - A settlement closing item belongs to the batch whose `id_saldo` (reconciliation
      report) is the id of an item in the same settlement group (merchant and calculation
      period): a batch paid in parts has several items in one group, and the report names
      only the first.
    - An anticipation item belongs to the batch of its merchant whose expected date is the
      item's `originalPaymentDate`; it is paid on `anticipatedPaymentDate`, minus its fee.

    Items whose batch is unknown (no report line names their group yet) keep a null
    payout_batch_id; the batch then falls back to matching bank credits by amount and date.
#}
with

settlements as (
    select * from {{ ref('stg_ifood__settlements') }}
),

anticipations as (
    select * from {{ ref('stg_ifood__anticipations') }}
),

payout_batches as (
    select * from {{ ref('int_ifood__payout_batches_aggregated') }}
),

settlement_groups as (
    select
        settlement_item_id,
        tenant_id,
        merchant_id,
        dense_rank() over (
            order by tenant_id, merchant_id, period_start_date, period_end_date
        ) as settlement_group
    from settlements
),

group_batches as (
    select distinct
        settlement_groups.settlement_group,
        payout_batches.payout_batch_id
    from payout_batches
    inner join settlement_groups
        on payout_batches.tenant_id = settlement_groups.tenant_id
        and payout_batches.merchant_id = settlement_groups.merchant_id
        and payout_batches.settlement_item_id = settlement_groups.settlement_item_id
),

settlement_items as (
    select
        group_batches.payout_batch_id,
        settlements.tenant_id,
        settlements.merchant_id,
        'settlement' as item_source,
        settlements.settlement_item_id as item_id,
        settlements.settlement_type as item_type,
        upper(settlements.status) as status,
        settlements.amount as paid_amount,
        settlements.payment_date,
        settlements.amount as original_amount,
        cast(null as numeric(18, 2)) as fee_amount,
        settlements.payment_date as original_payment_date,
        settlements.period_start_date,
        settlements.period_end_date
    from settlements
    inner join settlement_groups
        on settlements.tenant_id = settlement_groups.tenant_id
        and settlements.settlement_item_id = settlement_groups.settlement_item_id
    left join group_batches
        on settlement_groups.settlement_group = group_batches.settlement_group
    {#- Boletos and receivables-registry titles are not payouts into the account. #}
    where upper(coalesce(settlements.settlement_type, 'REPASSE')) = 'REPASSE'
),

anticipation_items as (
    select
        payout_batches.payout_batch_id,
        anticipations.tenant_id,
        anticipations.merchant_id,
        'anticipation' as item_source,
        anticipations.anticipation_id as item_id,
        anticipations.anticipation_type as item_type,
        upper(anticipations.status) as status,
        anticipations.anticipated_payment_amount as paid_amount,
        anticipations.anticipated_payment_date as payment_date,
        anticipations.original_payment_amount as original_amount,
        anticipations.fee_amount,
        anticipations.original_payment_date,
        anticipations.period_start_date,
        anticipations.period_end_date
    from anticipations
    left join payout_batches
        on anticipations.tenant_id = payout_batches.tenant_id
        and anticipations.merchant_id = payout_batches.merchant_id
        and anticipations.original_payment_date
            = payout_batches.expected_payment_date
),

items_unioned as (
    select * from settlement_items
    union all
    select * from anticipation_items
)

select * from items_unioned
