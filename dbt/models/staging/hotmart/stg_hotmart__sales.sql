{#
    Latest version of each Hotmart sale (a /sales/history item), one row per (tenant,
    transaction): its status, product, price, payment type and installments, the subscription and
    order-bump fields when the history carries them, and the epoch-millisecond dates as
    timestamptz (exact to the millisecond).

    Hotmart gives no refund or chargeback date in the history, so first_refunded_seen_at and
    first_charged_back_seen_at are the earliest load of any version with status REFUNDED, or
    with a status the rules map to charged_back (CHARGEBACK, PROTESTED, DISPUTE): the "first sync
    that saw" it (docs/payment-reconciliation-rules.md, "Sales platforms"). int_hotmart__payments
    prefers the webhook's creation_date when one landed.

    The REST history does not document `purchase.order_bump` nor `subscription.subscriber.code`
    (webhook payloads carry them): they are read here when present and completed from the
    notifications in int_hotmart__payments.

    Incremental (macros/incremental_staging.sql): a daily build reads the raw rows loaded since
    the newest load it holds and merges them with the staged row of each transaction they name,
    as one more candidate version carrying the earliest sightings so far (min is associative),
    so the latest version, first_*_seen_at and last_loaded_at (the newest load of any version,
    which int_hotmart__payments reads to find what changed) are a full refresh's.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'transaction_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'transaction_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['last_loaded_at']},
        ],
    )
}}

{%- set columns = [
    'transaction_id', 'tenant_id', 'integration_id', 'sync_run_id', 'status', 'product_id',
    'ordered_at', 'approved_at', 'warranty_expires_at', 'price_value', 'price_currency',
    'hotmart_fee_total', 'payment_type', 'installments_number', 'is_subscription',
    'recurrency_number', 'subscriber_code', 'is_order_bump', 'parent_purchase_transaction',
    'commission_as', 'seen_at', 'payload_hash', 'loaded_at',
] %}

with

source as (
    select * from {{ source('hotmart', 'sales') }}
    {%- if is_incremental() %}
    where loaded_at >= {{ reload_since('last_loaded_at') }}
    {%- endif %}
),

renamed as (
    select
        external_id as transaction_id,
        tenant_id,
        integration_id,
        sync_run_id,
        coalesce(payload #>> '{purchase,status}', status) as status,
        payload #>> '{product,id}' as product_id,
        {{ from_epoch_millis("payload #>> '{purchase,order_date}'") }} as ordered_at,
        {{ from_epoch_millis("payload #>> '{purchase,approved_date}'") }} as approved_at,
        {{ from_epoch_millis("payload #>> '{purchase,warranty_expire_date}'") }}
            as warranty_expires_at,
        {{ to_money("payload #>> '{purchase,price,value}'") }} as price_value,
        payload #>> '{purchase,price,currency_code}' as price_currency,
        {{ to_money("payload #>> '{purchase,hotmart_fee,total}'") }} as hotmart_fee_total,
        payload #>> '{purchase,payment,type}' as payment_type,
        cast(payload #>> '{purchase,payment,installments_number}' as integer)
            as installments_number,
        cast(payload #>> '{purchase,is_subscription}' as boolean) as is_subscription,
        cast(payload #>> '{purchase,recurrency_number}' as integer) as recurrency_number,
        nullif(payload #>> '{subscription,subscriber,code}', '') as subscriber_code,
        cast(payload #>> '{purchase,order_bump,is_order_bump}' as boolean) as is_order_bump,
        nullif(payload #>> '{purchase,order_bump,parent_purchase_transaction}', '')
            as parent_purchase_transaction,
        payload #>> '{purchase,commission_as}' as commission_as,
        coalesce(received_at, loaded_at) as seen_at,
        payload_hash,
        loaded_at
    from source
),

{#- Every version read, with when it showed a refunded or charged-back status; on an
    incremental build the staged row of each transaction read is one more version, carrying
    the earliest sightings so far. #}
versions as (
    select
        {{ columns | join(',\n        ') }},
        case when status = 'REFUNDED' then seen_at end as refunded_seen_at,
        case
            when status in ('CHARGEBACK', 'PROTESTED', 'DISPUTE') then seen_at
        end as charged_back_seen_at,
        loaded_at as version_last_loaded_at
    from renamed
    {%- if is_incremental() %}
    union all
    select
        {% for column in columns -%}
        staged.{{ column }},
        {% endfor -%}
        staged.first_refunded_seen_at,
        staged.first_charged_back_seen_at,
        staged.last_loaded_at
    from {{ this }} as staged
    inner join (select distinct tenant_id, transaction_id from renamed) as read_now
        on staged.tenant_id = read_now.tenant_id
        and staged.transaction_id = read_now.transaction_id
    {%- endif %}
),

first_seen as (
    select
        {{ columns | join(',\n        ') }},
        min(refunded_seen_at)
            over (partition by tenant_id, transaction_id) as first_refunded_seen_at,
        min(charged_back_seen_at)
            over (partition by tenant_id, transaction_id) as first_charged_back_seen_at,
        max(version_last_loaded_at)
            over (partition by tenant_id, transaction_id) as last_loaded_at
    from versions
),

deduplicated as (
    {{ deduplicate_latest_version('first_seen', 'tenant_id, transaction_id') }}
)

select * from deduplicated
