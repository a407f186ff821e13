{#
    Latest version of each sale's price details (a /sales/price/details item), one row per
    (tenant, transaction): `total` is the sale's gross and `fee` Hotmart's fee
    (docs/payment-reconciliation-rules.md, "Sales platforms"), JSON numbers read from their text.

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
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
        ],
    )
}}

with

source as (
    select * from {{ source('hotmart', 'price_details') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as transaction_id,
        tenant_id,
        integration_id,
        sync_run_id,
        coalesce(product_id, payload #>> '{product,id}') as product_id,
        {{ to_money("payload #>> '{total,value}'") }} as total_value,
        payload #>> '{total,currency_code}' as total_currency,
        {{ to_money("payload #>> '{fee,value}'") }} as fee_value,
        payload #>> '{fee,currency_code}' as fee_currency,
        {{ to_money("payload #>> '{base,value}'") }} as base_value,
        {{ to_money("payload #>> '{vat,value}'") }} as vat_value,
        nullif(payload #>> '{coupon,code}', '') as coupon_code,
        {{ to_money("payload #>> '{coupon,value}'") }} as coupon_value,
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
