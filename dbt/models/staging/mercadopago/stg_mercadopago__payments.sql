{#
    Latest version of each Mercado Pago payment: gross (`transaction_amount`), the gateway's
    fees split by `fee_details[].type` (application_fee = the split withheld for the platform,
    anything else = Mercado Pago's processing fee), its stated net
    (`transaction_details.net_received_amount`), the approval time and `money_release_date`
    (the São Paulo date the net is released, R). Money in decimal reais, read from the JSON
    number's text; times ISO-8601 with their offset.

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
#}
{%- set fee_details_sum -%}
    (
        select coalesce(sum(cast(fee_detail ->> 'amount' as numeric)), 0)
        from jsonb_array_elements(
            case
                when jsonb_typeof(payload -> 'fee_details') = 'array'
                    then payload -> 'fee_details'
                else '[]'::jsonb
            end
        ) as fee_detail
        where {condition}
    )
{%- endset %}

{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'payment_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'payment_id'], 'unique': true},
            {'columns': ['loaded_at']},
        ],
    )
}}

with

source as (
    select * from {{ source('mercadopago', 'payments') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as payment_id,
        tenant_id,
        integration_id,
        sync_run_id,
        nullif(coalesce(external_reference, payload ->> 'external_reference'), '')
            as external_reference,
        nullif(payload #>> '{metadata,product_id}', '') as product_id,
        nullif(payload #>> '{metadata,affiliate_id}', '') as affiliate_id,
        payload ->> 'status' as status,
        payload ->> 'status_detail' as status_detail,
        payload ->> 'payment_type_id' as payment_type_id,
        payload ->> 'payment_method_id' as payment_method_id,
        cast(payload ->> 'installments' as integer) as installments,
        payload ->> 'currency_id' as currency_code,
        {{ to_money("payload ->> 'transaction_amount'") }} as transaction_amount,
        {{ to_money("payload ->> 'transaction_amount_refunded'") }}
            as transaction_amount_refunded,
        cast(
            {{ fee_details_sum | replace('{condition}', "fee_detail ->> 'type' is distinct from 'application_fee'") }}
            as numeric(18, 2)
        ) as processing_fee_amount,
        cast(
            {{ fee_details_sum | replace('{condition}', "fee_detail ->> 'type' = 'application_fee'") }}
            as numeric(18, 2)
        ) as application_fee_amount,
        {{ to_money("payload #>> '{transaction_details,net_received_amount}'") }}
            as net_received_amount,
        case
            when jsonb_typeof(payload -> 'refunds') = 'array' then payload -> 'refunds'
            else '[]'::jsonb
        end as refunds,
        {{ to_utc_timestamp("payload ->> 'date_created'") }} as created_at,
        {{ to_utc_timestamp("payload ->> 'date_approved'") }} as approved_at,
        {{ sao_paulo_date(to_utc_timestamp("payload ->> 'money_release_date'")) }}
            as money_release_date,
        payload ->> 'money_release_status' as money_release_status,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, payment_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'payment_id']) }}
)

select * from newer_versions
