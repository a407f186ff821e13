{#
    Latest version of each Stripe Payout: one transfer to the bank, amount A (from cents) and
    arrival date D, the UTC date of `arrival_date` (Stripe writes date fields as their midnight UTC:
    docs/payment-reconciliation-rules.md, "Calendar").
#}
with

source as (
    select * from {{ source('stripe', 'payouts') }}
),

renamed as (
    select
        external_id as payout_id,
        tenant_id,
        integration_id,
        sync_run_id,
        coalesce(payload ->> 'status', status) as status,
        payload ->> 'method' as payout_method,
        {{ cents_to_money("payload ->> 'amount'") }} as amount,
        {{ utc_date_of_unix_seconds("payload ->> 'arrival_date'") }} as arrival_date,
        {{ from_unix_seconds("payload ->> 'created'") }} as created_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, payout_id') }}
)

select * from deduplicated
