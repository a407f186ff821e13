{#
    Contracted gateway fees per tenant, platform, method and installment band, with their
    inclusive validity. fct_fee_audit (and PushinPay's fee and release date, which the
    gateway does not report) pick the row valid on the payment date.
#}
with

source as (
    select * from {{ source('control', 'fee_schedules') }}
),

renamed as (
    select
        fee_schedule_id,
        tenant_id,
        platform,
        method,
        installments_from,
        installments_to,
        percent_fee,
        fixed_fee,
        release_days,
        valid_from,
        valid_to,
        note,
        updated_by,
        updated_at
    from source
)

select * from renamed
