with

source as (
    select * from {{ source('ifood', 'anticipations') }}
),

renamed as (
    select
        external_id as anticipation_id,
        merchant_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload ->> 'type' as anticipation_type,
        payload ->> 'status' as status,
        {{ to_money("payload ->> 'originalPaymentAmount'") }}
            as original_payment_amount,
        cast(nullif(trim(payload ->> 'feePercentage'), '') as numeric)
            as fee_percentage,
        {{ to_money("payload ->> 'feeAmount'") }} as fee_amount,
        {{ to_money("payload ->> 'anticipatedPaymentAmount'") }}
            as anticipated_payment_amount,
        {{ to_date("payload ->> 'originalPaymentDate'") }}
            as original_payment_date,
        {{ to_date("payload ->> 'anticipatedPaymentDate'") }}
            as anticipated_payment_date,
        {{ to_date("payload ->> 'startDateCalculation'") }} as period_start_date,
        {{ to_date("payload ->> 'endDateCalculation'") }} as period_end_date,
        payload #>> '{accountDetails,bankName}' as bank_name,
        payload #>> '{accountDetails,accountNumber}' as account_number,
        {{ digits_only("payload #>> '{accountDetails,documentNumber}'") }}
            as account_document,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, anticipation_id') }}
)

select * from deduplicated
