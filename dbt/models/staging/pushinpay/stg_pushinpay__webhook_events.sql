{#
    PushinPay webhook notifications as received, one row per notification (latest version of
    each external id): the transaction, the status it announces, its value (cents) and when
    the sink received it (seen_at: received_at, else the load time).
#}
with

source as (
    select * from {{ source('pushinpay', 'webhook_events') }}
),

renamed as (
    select
        external_id as notification_id,
        coalesce(transaction_id, payload ->> 'id') as transaction_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload ->> 'status' as status,
        {{ cents_to_money("payload ->> 'value'") }} as value,
        payload ->> 'end_to_end_id' as end_to_end_id,
        received_at,
        coalesce(received_at, loaded_at) as seen_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, notification_id') }}
)

select * from deduplicated
