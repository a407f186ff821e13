{#- The CNPJ among the merchant's documents, else its first document. -#}
{%- set merchant_document_text -%}
    coalesce(
        jsonb_path_query_first(
            payload, '$.merchant.documents[*] ? (@.type == "CNPJ").value'
        ) #>> '{}',
        payload #>> '{merchant,documents,0,value}'
    )
{%- endset %}

{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'order_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'order_id'], 'unique': true},
            {'columns': ['loaded_at']},
        ],
    )
}}

with

source as (
    select * from {{ source('ifood', 'sales') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as order_id,
        payload ->> 'shortId' as short_id,
        coalesce(merchant_id, payload #>> '{merchant,id}') as merchant_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload #>> '{merchant,name}' as merchant_name,
        {{ digits_only(merchant_document_text) }} as merchant_document,
        payload ->> 'type' as sale_type,
        payload ->> 'category' as category,
        payload ->> 'salesChannel' as sales_channel,
        payload ->> 'currentStatus' as current_status,
        {{ to_money("payload #>> '{saleGrossValue,bag}'") }} as bag_amount,
        {{ to_money("payload #>> '{saleGrossValue,deliveryFee}'") }}
            as delivery_fee_amount,
        {{ to_money("payload #>> '{saleGrossValue,serviceFee}'") }}
            as service_fee_amount,
        {{ to_money("payload #>> '{benefits,totalValue}'") }} as benefits_amount,
        {{ to_money("payload #>> '{billingSummary,saleBalance}'") }}
            as sale_balance_amount,
        {{ to_utc_timestamp("payload ->> 'createdAt'") }} as created_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, order_id') }}
),

gross_computed as (
    select
        order_id,
        short_id,
        merchant_id,
        tenant_id,
        integration_id,
        sync_run_id,
        merchant_name,
        merchant_document,
        sale_type,
        category,
        sales_channel,
        current_status,
        bag_amount,
        delivery_fee_amount,
        service_fee_amount,
        {#- GMV: a component that is absent counts as zero. #}
        cast(
            coalesce(bag_amount, 0)
            + coalesce(delivery_fee_amount, 0)
            + coalesce(service_fee_amount, 0)
            as numeric(18, 2)
        ) as gross_amount,
        benefits_amount,
        sale_balance_amount,
        {#- Business date of the sale in Brazil, whatever the session time zone. #}
        cast(created_at at time zone 'America/Sao_Paulo' as date) as sale_date,
        created_at,
        payload_hash,
        loaded_at
    from deduplicated
),

newer_versions as (
    {{ newer_than_staged('gross_computed', ['tenant_id', 'order_id']) }}
)

select * from newer_versions
