{#- Asaas webhook events (PAYMENT_*), one row per event id: which payment, its status in the
    event, and when the sink received it.

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'event_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'event_id'], 'unique': true},
            {'columns': ['loaded_at']},
        ],
    )
}}

with

source as (
    select * from {{ source('asaas', 'webhook_events') }}
    {{ loaded_since_last_build() }}
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
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'event_id']) }}
)

select * from newer_versions
