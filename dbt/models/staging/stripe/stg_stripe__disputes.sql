{#- Latest version of each Stripe Dispute (chargeback) on a charge. -#}
with

source as (
    select * from {{ source('stripe', 'disputes') }}
),

renamed as (
    select
        external_id as dispute_id,
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
    {{ deduplicate_latest_version('renamed', 'tenant_id, dispute_id') }}
)

select * from deduplicated
