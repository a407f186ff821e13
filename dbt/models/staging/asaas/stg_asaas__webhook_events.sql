{#- Asaas webhook events (PAYMENT_*), one row per event id: which payment, its status in the
    event, and when the sink received it. -#}
with

source as (
    select * from {{ source('asaas', 'webhook_events') }}
),

renamed as (
    select
        external_id as event_id,
        coalesce(payment_id, payload #>> '{payment,id}') as payment_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload ->> 'event' as event_type,
        payload #>> '{payment,status}' as payment_status,
        {{ from_sao_paulo_text("payload ->> 'dateCreated'") }} as created_at,
        received_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, event_id') }}
)

select * from deduplicated
