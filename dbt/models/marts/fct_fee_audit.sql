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

    Incremental: a daily build re-audits the payments int_payments changed after this mart's
    newest row (changed_at), and every payment of a tenant whose fee terms changed: its
    control.fee_schedules rows (fee_schedules_fingerprint) or its fee_tolerance. A re-audited
    payment that no longer took money is written, then deleted by the post-hook, so a row
    leaves when its payment leaves the audit (delete+insert alone only replaces rows).
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'platform', 'payment_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'analyze_incremental': false},
        indexes=[
            {'columns': ['tenant_id', 'platform', 'payment_id'], 'unique': true},
            {'columns': ['changed_at']},
        ],
        post_hook=[
            "{% if is_incremental() %}delete from {{ this }} where changed_at = "
            ~ "transaction_timestamp() and payment_status not in "
            ~ "('paid', 'refunded', 'charged_back'){% endif %}",
        ],
    )
}}

with

payments as not materialized (
    select * from {{ ref('int_payments') }}
),

fee_schedules as (
    select * from {{ ref('stg_control__fee_schedules') }}
),

tolerances as (
    select * from {{ ref('stg_control__tolerances') }}
),

fee_terms as (
    {{ tenant_fingerprints('fee_schedules', 'control_rows.fee_schedule_id') }}
),

{% if is_incremental() -%}
tenants_with_new_terms as (
    select tenants.tenant_id
    from {{ tenants_of(this) }} as tenants
    cross join lateral (
        select audited.fee_schedules_fingerprint, audited.fee_tolerance
        from {{ this }} as audited
        where audited.tenant_id = tenants.tenant_id
        limit 1
    ) as applied
    left join fee_terms
        on tenants.tenant_id = fee_terms.tenant_id
    left join tolerances
        on tenants.tenant_id = tolerances.tenant_id
    where (applied.fee_schedules_fingerprint, applied.fee_tolerance) is distinct from (
        fee_terms.fingerprint,
        cast({{ tenant_tolerance('fee_tolerance') }} as numeric(18, 2))
    )
),

payments_to_audit as (
    select tenant_id, platform, payment_id
    from payments
    where changed_at > {{ changed_since() }}
    union
    select payments.tenant_id, payments.platform, payments.payment_id
    from payments
    inner join tenants_with_new_terms
        on payments.tenant_id = tenants_with_new_terms.tenant_id
),

{#- Every payment re-audited, including those that no longer took money (post-hook). #}
payments_that_took_money as (
    select payments.*
    from payments
    inner join payments_to_audit
        on payments.tenant_id = payments_to_audit.tenant_id
        and payments.platform = payments_to_audit.platform
        and payments.payment_id = payments_to_audit.payment_id
),

{% else -%}
payments_that_took_money as (
    select *
    from payments
    where payment_status in ('paid', 'refunded', 'charged_back')
),

{% endif -%}

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
        cast({{ tenant_tolerance('fee_tolerance') }} as numeric(18, 2)) as fee_tolerance,
        fee_terms.fingerprint as fee_schedules_fingerprint
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
    left join fee_terms
        on payments_that_took_money.tenant_id = fee_terms.tenant_id
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
        fee_tolerance,
        fee_schedules_fingerprint,
        {{ build_time() }} as changed_at
    from differences
)

select * from final
