{#
    Kiwify order notifications, one row per event (order_id:webhook_event_type, latest version):
    the order, its status and event type, and its dates. Kiwify writes them 'YYYY-MM-DD HH:MM'
    in São Paulo wall time (or ISO-8601 with an offset, kept as written). A delivery wrapped as
    {"order": {...}} is read inside the wrapper; a cart abandonment has no order (event type
    cart_abandoned). The sale itself is re-read by the API (kiwify_sales); these rows are evidence.

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
            {'columns': ['tenant_id', 'order_id']},
        ],
    )
}}

with

source as (
    select * from {{ source('kiwify', 'webhook_events') }}
    {{ loaded_since_last_build() }}
),

unwrapped as (
    select
        source.*,
        case
            when jsonb_typeof(payload -> 'order') = 'object' then payload -> 'order'
            else payload
        end as body
    from source
),

renamed as (
    select
        external_id as event_id,
        coalesce(order_id, body ->> 'order_id') as order_id,
        tenant_id,
        integration_id,
        sync_run_id,
        coalesce(
            body ->> 'webhook_event_type',
            case when body ->> 'status' = 'abandoned' then 'cart_abandoned' end
        ) as event_type,
        coalesce(body ->> 'order_status', body ->> 'status') as order_status,
        body ->> 'payment_method' as payment_method,
        nullif(body ->> 'subscription_id', '') as subscription_id,
        {{ from_sao_paulo_text("body ->> 'created_at'") }} as created_at,
        {{ from_sao_paulo_text("body ->> 'updated_at'") }} as updated_at,
        {{ from_sao_paulo_text("body ->> 'approved_date'") }} as approved_at,
        {{ from_sao_paulo_text("body ->> 'refunded_at'") }} as refunded_at,
        received_at,
        payload_hash,
        loaded_at
    from unwrapped
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, event_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'event_id']) }}
)

select * from newer_versions
