{#
    Every canonical payment has its row in fct_payment_reconciliation (the mart's unique test
    says at most one). Payments missing from the mart are returned.
#}
with

payments as (
    select * from {{ ref('int_payments') }}
),

reconciliation as (
    select * from {{ ref('fct_payment_reconciliation') }}
),

missing as (
    select payments.tenant_id, payments.platform, payments.payment_id
    from payments
    left join reconciliation
        on payments.tenant_id = reconciliation.tenant_id
        and payments.platform = reconciliation.platform
        and payments.payment_id = reconciliation.payment_id
    where reconciliation.payment_id is null
)

select * from missing
