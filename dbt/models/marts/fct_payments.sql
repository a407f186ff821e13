{#
    One row per gateway payment (a charge attempt for one order; at Asaas one installment),
    in the canonical columns of docs/payment-reconciliation-rules.md: who, what, the canonical
    status, gross, the gateway's fee, the split parts it withheld, the net (computed: gross −
    fee − split_withheld, the same meaning at every gateway) next to the net the gateway
    states, and the dates. Its reconciliation is fct_payment_reconciliation. The sales platforms
    (Hotmart, Kiwify: one row per sale) add the commissions they report by role
    (coproducer_commission, affiliate_commission_reported) and the subscription of a renewal.

    Incremental: a daily build rewrites only the payments int_payments changed after this
    mart's newest row (changed_at: when the build that wrote the row ran); every column is
    the payment's own, so nothing else can change a row.
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
    )
}}

with

payments as (
    select * from {{ ref('int_payments') }}
    {%- if is_incremental() %}
    where changed_at > {{ changed_since() }}
    {%- endif %}
),

final as (
    select
        tenant_id,
        platform,
        integration_id,
        payment_id,
        order_id,
        product_id,
        affiliate_id,
        method,
        installments,
        gateway_status,
        payment_status,
        gross_amount,
        fee_amount,
        fee_source,
        split_withheld_amount,
        net_amount,
        stated_net_amount,
        coproducer_commission,
        affiliate_commission_reported,
        subscription_id,
        paid_date,
        refunded_date,
        expected_release_date,
        payout_id,
        refunds,
        disputes,
        paid_at,
        refunded_at,
        {{ build_time() }} as changed_at
    from payments
)

select * from final
