{#
    The gateway fee of every payment that took money (canonical status paid, refunded or
    charged_back) against the contracted one (docs/payment-reconciliation-rules.md, "Fee
    audit"): the control.fee_schedules row valid on the paid date for the payment's tenant,
    platform, method and installment count gives
    contracted_fee = round(gross × percent_fee / 100 + fixed_fee, 2);
    fee_difference = fee − contracted; overcharged when it exceeds the tenant's fee_tolerance
    (overcharge_amount = the difference, else 0). No row: audit_status no_contract, never an
    over-charge. PushinPay reports no fee: its fee is the contract's, fee_source 'contract',
    so its audit always agrees.
#}
with

payments as (
    select * from {{ ref('int_payments') }}
),

fee_schedules as (
    select * from {{ ref('stg_control__fee_schedules') }}
),

tolerances as (
    select * from {{ ref('stg_control__tolerances') }}
),

payments_that_took_money as (
    select *
    from payments
    where payment_status in ('paid', 'refunded', 'charged_back')
),

contracts_found as (
    select
        payments_that_took_money.*,
        fee_schedules.fee_schedule_id,
        fee_schedules.percent_fee,
        fee_schedules.fixed_fee,
        cast(
            round(
                payments_that_took_money.gross_amount * fee_schedules.percent_fee / 100
                + fee_schedules.fixed_fee,
                2
            ) as numeric(18, 2)
        ) as contracted_fee_amount,
        cast({{ tenant_tolerance('fee_tolerance') }} as numeric(18, 2)) as fee_tolerance
    from payments_that_took_money
    left join fee_schedules
        on payments_that_took_money.tenant_id = fee_schedules.tenant_id
        and payments_that_took_money.platform = fee_schedules.platform
        and payments_that_took_money.method = fee_schedules.method
        and payments_that_took_money.installments
            between fee_schedules.installments_from and fee_schedules.installments_to
        and payments_that_took_money.paid_date >= fee_schedules.valid_from
        and (
            fee_schedules.valid_to is null
            or payments_that_took_money.paid_date <= fee_schedules.valid_to
        )
    left join tolerances
        on payments_that_took_money.tenant_id = tolerances.tenant_id
),

differences as (
    select
        *,
        cast(fee_amount - contracted_fee_amount as numeric(18, 2)) as fee_difference
    from contracts_found
),

final as (
    select
        tenant_id,
        platform,
        integration_id,
        payment_id,
        order_id,
        method,
        installments,
        payment_status,
        paid_date,
        gross_amount,
        fee_amount,
        fee_source,
        fee_schedule_id,
        percent_fee,
        fixed_fee,
        contracted_fee_amount,
        fee_difference,
        case
            when fee_schedule_id is null then 'no_contract'
            when fee_difference > fee_tolerance then 'overcharged'
            else 'within_contract'
        end as audit_status,
        coalesce(fee_difference > fee_tolerance, false) as overcharged,
        case
            when fee_difference > fee_tolerance then fee_difference
            else cast(0 as numeric(18, 2))
        end as overcharge_amount,
        fee_tolerance
    from differences
)

select * from final
