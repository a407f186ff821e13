{#- Latest version of each Stripe Refund (amount from cents, `created` from Unix seconds). -#}
with

source as (
    select * from {{ source('stripe', 'refunds') }}
),

renamed as (
    select
        external_id as refund_id,
        coalesce(charge, payload ->> 'charge') as charge_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload ->> 'status' as status,
        payload ->> 'reason' as reason,
        {{ cents_to_money("payload ->> 'amount'") }} as amount,
        {{ from_unix_seconds("payload ->> 'created'") }} as created_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, refund_id') }}
)

select * from deduplicated
