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
#}
with

source as (
    select * from {{ source('hotmart', 'sales') }}
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

first_seen as (
    select
        *,
        min(seen_at) filter (where status = 'REFUNDED')
            over (partition by tenant_id, transaction_id) as first_refunded_seen_at,
        min(seen_at) filter (where status in ('CHARGEBACK', 'PROTESTED', 'DISPUTE'))
            over (partition by tenant_id, transaction_id) as first_charged_back_seen_at
    from renamed
),

deduplicated as (
    {{ deduplicate_latest_version('first_seen', 'tenant_id, transaction_id') }}
)

select * from deduplicated
