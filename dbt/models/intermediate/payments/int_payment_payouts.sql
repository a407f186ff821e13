{#
    Every gateway payout (docs/payment-reconciliation-rules.md, "Payouts"): one transfer from a
    gateway to the bank, with the amount A the bank should receive and the date D it should
    arrive. The union of int_<platform>__payouts (Stripe payout objects, Asaas transfers, Mercado
    Pago and PushinPay day releases, Hotmart's computed daily deposits, Kiwify payout objects),
    with how many payments name each.
#}
{%- set gateways = ['stripe', 'mercadopago', 'asaas', 'pushinpay', 'hotmart', 'kiwify'] %}

with

{% for gateway in gateways -%}
{{ gateway }}_payouts as (
    select * from {{ ref('int_' ~ gateway ~ '__payouts') }}
),

{% endfor -%}
payments as (
    select * from {{ ref('int_payments') }}
),

unioned as (
    {%- for gateway in gateways %}
    select
        payout_id,
        tenant_id,
        platform,
        integration_id,
        payout_amount,
        payout_date
    from {{ gateway }}_payouts
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

payments_counted as (
    select
        tenant_id,
        platform,
        payout_id,
        count(*) as payment_count
    from payments
    where payout_id is not null
    group by tenant_id, platform, payout_id
),

final as (
    select
        unioned.payout_id,
        unioned.tenant_id,
        unioned.platform,
        unioned.integration_id,
        unioned.payout_amount,
        unioned.payout_date,
        coalesce(payments_counted.payment_count, 0) as payment_count
    from unioned
    left join payments_counted
        on unioned.tenant_id = payments_counted.tenant_id
        and unioned.platform = payments_counted.platform
        and unioned.payout_id = payments_counted.payout_id
)

select * from final
