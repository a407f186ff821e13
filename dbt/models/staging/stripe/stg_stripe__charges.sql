{#
    Latest version of each Stripe Charge: the canonical payment's gross, method, installments
    and the checkout's references (metadata order_id / product_id / affiliate_id). Money from
    integer cents, `created` from Unix seconds.

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'charge_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'charge_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['tenant_id', 'balance_transaction_id']},
        ],
    )
}}

with

source as (
    select * from {{ source('stripe', 'charges') }}
    {{ loaded_since_last_build() }}
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
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'charge_id']) }}
)

select * from newer_versions
