{#
    Latest version of each Stripe Charge: the canonical payment's gross, method, installments
    and the checkout's references (metadata order_id / product_id / affiliate_id). Money from
    integer cents, `created` from Unix seconds.
#}
with

source as (
    select * from {{ source('stripe', 'charges') }}
),

renamed as (
    select
        external_id as charge_id,
        coalesce(payment_intent, payload ->> 'payment_intent') as payment_intent_id,
        tenant_id,
        integration_id,
        sync_run_id,
        {#- balance_transaction is its id, or the object when the list was expanded. #}
        case
            when jsonb_typeof(payload -> 'balance_transaction') = 'object'
                then payload #>> '{balance_transaction,id}'
            else payload ->> 'balance_transaction'
        end as balance_transaction_id,
        payload ->> 'status' as status,
        nullif(payload #>> '{metadata,order_id}', '') as order_id,
        nullif(payload #>> '{metadata,product_id}', '') as product_id,
        nullif(payload #>> '{metadata,affiliate_id}', '') as affiliate_id,
        payload #>> '{payment_method_details,type}' as payment_method_type,
        cast(
            payload #>> '{payment_method_details,card,installments,plan,count}' as integer
        ) as installment_count,
        payload ->> 'currency' as currency_code,
        {{ cents_to_money("payload ->> 'amount'") }} as amount,
        {{ cents_to_money("payload ->> 'amount_refunded'") }} as amount_refunded,
        {{ cents_to_money("payload ->> 'application_fee_amount'") }}
            as application_fee_amount,
        coalesce(cast(payload ->> 'refunded' as boolean), false) as is_refunded,
        coalesce(cast(payload ->> 'disputed' as boolean), false) as is_disputed,
        {{ from_unix_seconds("payload ->> 'created'") }} as created_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, charge_id') }}
)

select * from deduplicated
