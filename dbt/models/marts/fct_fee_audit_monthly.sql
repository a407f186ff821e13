{#
    Gateway over-charges per tenant, platform and month of the paid date (from fct_fee_audit):
    money the merchant can claim back, with the payments audited and those without a contract.
#}
with

fee_audit as (
    select * from {{ ref('fct_fee_audit') }}
),

final as (
    select
        tenant_id,
        platform,
        cast(date_trunc('month', paid_date) as date) as month_start_date,
        count(*) as payment_count,
        count(*) filter (where audit_status = 'no_contract') as no_contract_count,
        count(*) filter (where overcharged) as overcharged_count,
        cast(sum(fee_amount) as numeric(18, 2)) as fee_amount,
        cast(sum(contracted_fee_amount) as numeric(18, 2)) as contracted_fee_amount,
        cast(sum(overcharge_amount) as numeric(18, 2)) as overcharge_amount
    from fee_audit
    group by tenant_id, platform, cast(date_trunc('month', paid_date) as date)
)

select * from final
