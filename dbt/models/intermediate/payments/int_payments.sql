{#
    Every gateway payment and sales-platform sale in the canonical columns of
    docs/payment-reconciliation-rules.md, one row per (tenant, platform, payment): the union of
    the four gateways' and the two sales platforms' (Hotmart, Kiwify) int_<platform>__payments,
    with the São Paulo dates of paid_at and refunded_at. The per-gateway models say which
    field each column comes from. A payment that took no money (pending, failed, expired) has
    fee, split withheld and net 0, whatever the gateway shows as expected amounts (the rules
    document, "The canonical payment"): nothing was charged, kept or withheld.

    The sales platforms add subscription_id, coproducer_commission and
    affiliate_commission_reported (the commissions the platform reports by role); the gateways
    supply null, 0 and null. refunded_at is, at the two platforms, also the chargeback's date.

    Incremental: a daily build copies only the rows the four gateway models wrote after this
    model's newest row (changed_at), whatever made them change (a load, the as-of date
    releasing a payment, a fee schedule). changed_at is when the build that wrote the row
    here ran; last_loaded_at the newest load among the payment's inputs.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'platform', 'payment_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'platform', 'payment_id'], 'unique': true},
            {'columns': ['tenant_id', 'platform', 'payout_id']},
            {'columns': ['changed_at']},
        ],
    )
}}
{%- set gateways = ['stripe', 'mercadopago', 'asaas', 'pushinpay', 'hotmart', 'kiwify'] %}
{%- set sales_platforms = ['hotmart', 'kiwify'] %}
{%- set columns = [
    'tenant_id', 'platform', 'integration_id', 'payment_id', 'order_id', 'product_id',
    'affiliate_id', 'method', 'installments', 'gateway_status', 'payment_status',
    'gross_amount', 'fee_amount', 'fee_source', 'split_withheld_amount', 'net_amount',
    'stated_net_amount', 'paid_at', 'refunded_at', 'expected_release_date', 'payout_id',
    'refunds', 'disputes', 'last_loaded_at',
] %}
{%- set changed_since_last_build = changed_since() %}

with

{% for gateway in gateways -%}
{{ gateway }}_payments as (
    select * from {{ ref('int_' ~ gateway ~ '__payments') }}
),

{% endfor -%}
unioned as (
    {%- for gateway in gateways %}
    select
        {{ columns | join(',\n        ') }},
        {%- if gateway in sales_platforms %}
        subscription_id,
        coproducer_commission,
        affiliate_commission_reported,
        split_scope_note
        {%- else %}
        cast(null as text) as subscription_id,
        cast(0 as numeric(18, 2)) as coproducer_commission,
        cast(null as numeric(18, 2)) as affiliate_commission_reported,
        cast(null as text) as split_scope_note
        {%- endif %}
    from {{ gateway }}_payments
    {%- if is_incremental() %}
    where changed_at > {{ changed_since_last_build }}
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
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
        case when took_money then fee_amount else 0 end as fee_amount,
        fee_source,
        case when took_money then split_withheld_amount else 0 end as split_withheld_amount,
        case when took_money then net_amount else 0 end as net_amount,
        case when took_money then coproducer_commission else 0 end as coproducer_commission,
        affiliate_commission_reported,
        subscription_id,
        split_scope_note,
        stated_net_amount,
        {{ sao_paulo_date('paid_at') }} as paid_date,
        {{ sao_paulo_date('refunded_at') }} as refunded_date,
        expected_release_date,
        payout_id,
        refunds,
        disputes,
        paid_at,
        refunded_at,
        last_loaded_at,
        {{ build_time() }} as changed_at
    from (
        select
            unioned.*,
            payment_status in ('paid', 'refunded', 'charged_back') as took_money
        from unioned
    ) as unioned
)

select * from final
