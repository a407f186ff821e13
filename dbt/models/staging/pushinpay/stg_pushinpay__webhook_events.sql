{#
    PushinPay webhook notifications as received, one row per notification (latest version of
    each external id): the transaction, the status it announces, its value (cents) and when
    the sink received it (seen_at: received_at, else the load time).

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
            {'columns': ['tenant_id', 'transaction_id']},
        ],
    )
}}

with

source as (
    select * from {{ source('pushinpay', 'webhook_events') }}
    {{ loaded_since_last_build() }}
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
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'notification_id']) }}
)

select * from newer_versions
