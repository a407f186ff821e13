with

source as (
    select * from {{ source('ifood', 'settlements') }}
),

renamed as (
    select
        external_id as settlement_item_id,
        merchant_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload ->> 'type' as settlement_type,
        payload ->> 'product' as product,
        payload ->> 'status' as status,
        {{ to_money("payload ->> 'amount'") }} as amount,
        payload ->> 'transactionId' as transaction_id,
        {{ to_date("payload ->> 'paymentDate'") }} as payment_date,
        {{ to_date("payload ->> 'startDateCalculation'") }} as period_start_date,
        {{ to_date("payload ->> 'endDateCalculation'") }} as period_end_date,
        payload #>> '{accountDetails,bankName}' as bank_name,
        payload #>> '{accountDetails,bankNumber}' as bank_number,
        payload #>> '{accountDetails,branchCode}' as branch_code,
        payload #>> '{accountDetails,accountNumber}' as account_number,
        {{ digits_only("payload #>> '{accountDetails,documentNumber}'") }}
            as account_document,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, settlement_item_id') }}
)

select * from deduplicated
