{#
    The Asaas account statement (extrato), one row per line, latest version: signed value,
    running balance, type (PAYMENT_RECEIVED, PAYMENT_FEE, TRANSFER, PAYMENT_REFUNDED, …), the
    line's date and the payment or transfer it belongs to. A transfer sweeps the balance: a
    payment's payout is the first TRANSFER line after its credit line.
#}
with

source as (
    select * from {{ source('asaas', 'financial_transactions') }}
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
)

select * from deduplicated
