{#
    The Asaas account statement (extrato), one row per line, latest version: signed value,
    running balance, type (PAYMENT_RECEIVED, PAYMENT_FEE, TRANSFER, PAYMENT_REFUNDED, …), the
    line's date and the payment or transfer it belongs to. A transfer sweeps the balance: a
    payment's payout is the first TRANSFER line after its credit line.

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'financial_transaction_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'financial_transaction_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['tenant_id', 'payment_id']},
            {'columns': ['tenant_id', 'transfer_id']},
            {'columns': ['tenant_id', 'integration_id', 'transaction_date']},
            {'columns': ['tenant_id', 'integration_id', 'type', 'transaction_date', 'financial_transaction_id']},
        ],
    )
}}

with

source as (
    select * from {{ source('asaas', 'financial_transactions') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as financial_transaction_id,
        tenant_id,
        integration_id,
        sync_run_id,
        nullif(coalesce(payment_id, payload ->> 'paymentId'), '') as payment_id,
        nullif(payload ->> 'transferId', '') as transfer_id,
        payload ->> 'type' as type,
        payload ->> 'description' as description,
        {{ to_money("payload ->> 'value'") }} as value,
        {{ to_money("payload ->> 'balance'") }} as balance,
        {{ to_date("payload ->> 'date'") }} as transaction_date,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, financial_transaction_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'financial_transaction_id']) }}
)

select * from newer_versions
