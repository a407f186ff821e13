{#
    Hotmart webhook notifications (2.0.0), one row per envelope id (latest version): the event,
    Hotmart's creation_date (epoch ms), and for purchase events the sale's transaction, status,
    subscription and order-bump fields, which the REST history does not document
    (int_hotmart__payments reads them from here when the sale lacks them, and the creation_date
    of a refund or chargeback notification as the sale's refunded_at).

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
            {'columns': ['tenant_id', 'transaction_id']},
        ],
    )
}}

with

source as (
    select * from {{ source('hotmart', 'webhook_events') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as event_id,
        coalesce(transaction, payload #>> '{data,purchase,transaction}') as transaction_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload ->> 'event' as event,
        {{ from_epoch_millis("payload ->> 'creation_date'") }} as created_at,
        payload #>> '{data,purchase,status}' as purchase_status,
        payload #>> '{data,product,id}' as product_id,
        cast(payload #>> '{data,purchase,is_subscription}' as boolean) as is_subscription,
        nullif(payload #>> '{data,subscription,subscriber,code}', '') as subscriber_code,
        cast(payload #>> '{data,purchase,order_bump,is_order_bump}' as boolean)
            as is_order_bump,
        nullif(payload #>> '{data,purchase,order_bump,parent_purchase_transaction}', '')
            as parent_purchase_transaction,
        {{ to_money("payload #>> '{data,purchase,price,value}'") }} as price_value,
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
