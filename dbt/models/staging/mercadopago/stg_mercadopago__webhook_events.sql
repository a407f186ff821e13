{#- Mercado Pago webhook notifications, one row per notification id: which payment, what
    action, and when the sink received it. The payment itself is re-read by the API.

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'notification_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'notification_id'], 'unique': true},
            {'columns': ['loaded_at']},
        ],
    )
}}

with

source as (
    select * from {{ source('mercadopago', 'webhook_events') }}
    {{ loaded_since_last_build() }}
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
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'notification_id']) }}
)

select * from newer_versions
