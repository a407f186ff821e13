{#
    The gateways' own numbers agree with the canonical net (docs/payment-reconciliation-rules.md,
    "The canonical payment"): where a gateway states a net (Stripe balance transaction `net`,
    Mercado Pago `net_received_amount`, Asaas netValue − splits), a payment that took money
    whose computed net (gross − fee − split_withheld) differs from it by more than the tenant's
    value_tolerance is returned. A failure means the gateway's fee, split and net do not add up.
#}
with

payments as (
    select * from {{ ref('fct_payments') }}
),

tolerances as (
    select * from {{ ref('stg_control__tolerances') }}
),

disagreements as (
    select
        payments.tenant_id,
        payments.platform,
        payments.payment_id,
        payments.net_amount,
        payments.stated_net_amount,
        payments.net_amount - payments.stated_net_amount as difference
    from payments
    left join tolerances
        on payments.tenant_id = tolerances.tenant_id
    where payments.payment_status in ('paid', 'refunded', 'charged_back')
        and payments.stated_net_amount is not null
        and abs(payments.net_amount - payments.stated_net_amount)
            > {{ tenant_tolerance('value_tolerance') }}
)

select * from disagreements
