{#- Mercado Pago webhook notifications, one row per notification id: which payment, what
    action, and when the sink received it. The payment itself is re-read by the API. -#}
with

source as (
    select * from {{ source('mercadopago', 'webhook_events') }}
),

renamed as (
    select
        external_id as notification_id,
        coalesce(data_id, payload #>> '{data,id}') as payment_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload ->> 'type' as notification_type,
        payload ->> 'action' as action,
        {{ to_utc_timestamp("payload ->> 'date_created'") }} as created_at,
        received_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, notification_id') }}
)

select * from deduplicated
