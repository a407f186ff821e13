{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'transaction_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'transaction_id'], 'unique': true},
            {'columns': ['loaded_at']},
        ],
    )
}}

with

source as (
    select * from {{ source('pluggy', 'transactions') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as transaction_id,
        coalesce(account_id, payload ->> 'accountId') as account_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload ->> 'type' as type,
        coalesce(payload ->> 'status', 'POSTED') as status,
        payload ->> 'description' as description,
        payload ->> 'descriptionRaw' as description_raw,
        payload ->> 'category' as category,
        payload ->> 'currencyCode' as currency_code,
        payload ->> 'providerCode' as provider_code,
        payload ->> 'operationType' as operation_type,
        {{ digits_only("payload #>> '{paymentData,payer,documentNumber,value}'") }}
            as payer_document,
        payload #>> '{paymentData,payer,documentNumber,type}' as payer_document_type,
        payload #>> '{paymentData,payer,name}' as payer_name,
        {{ digits_only("payload #>> '{paymentData,receiver,documentNumber,value}'") }}
            as receiver_document,
        payload #>> '{paymentData,paymentMethod}' as payment_method,
        payload #>> '{paymentData,referenceNumber}' as reference_number,
        {{ to_money("payload ->> 'amount'") }} as amount,
        {{ to_money("payload ->> 'balance'") }} as balance_amount,
        coalesce(
            payload ->> 'type' = 'CREDIT',
            {{ to_money("payload ->> 'amount'") }} > 0
        ) as is_credit,
        {#- Pluggy encodes the posting date as midnight UTC: read the date in UTC. #}
        cast(
            {{ to_utc_timestamp("payload ->> 'date'") }} at time zone 'UTC' as date
        ) as posted_date,
        {{ to_utc_timestamp("payload ->> 'createdAt'") }} as created_at,
        {{ to_utc_timestamp("payload ->> 'updatedAt'") }} as updated_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, transaction_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'transaction_id']) }}
)

select * from newer_versions
