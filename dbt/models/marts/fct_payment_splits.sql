{#
    The proportional split of every payment that took money (canonical status paid, refunded
    or charged_back), per docs/payment-reconciliation-rules.md "Splits", in this order:
      platform_fee         = round(gross × platform_fee_rate, 2)
      affiliate_commission = round((gross − platform_fee) × affiliate_rate, 2) when the
                             payment names an affiliate, else 0
      producer_amount      = gross − platform_fee − affiliate_commission
    round() on numeric is half up, so the parts sum to the gross exactly.

    Rates: the control.split_rates row of the payment's tenant and product valid on the paid
    date, else the tenant's row with a null product valid that day, else the vars
    platform_fee_rate and affiliate_rate. The gateway-reported split part (split_withheld) is
    compared with the platform fee at Stripe and Mercado Pago and with the affiliate
    commission at Asaas and PushinPay; a payment whose gateway withheld nothing has a null
    difference.

    Sales platforms (Hotmart, Kiwify; the rules' "Commissions by role"): the platform's reported
    fee is the first part, then
      affiliate_commission  = round((gross − fee) × affiliate_rate, 2) when an affiliate is named
      coproducer_commission = round((gross − fee − affiliate_commission) × coproducer_rate, 2)
      producer_amount       = gross − fee − affiliate_commission − coproducer_commission
    coproducer_rate is the chosen row's (product row, else tenant row); null on that row, or no
    row, is the var coproducer_rate, never another row's rate. The reported commissions are
    compared role by role: affiliate_difference and coproducer_difference = reported − model,
    producer_difference = stated net − producer_amount; split_mismatch when any of them exceeds
    split_tolerance. split_difference is split_withheld − (affiliate + co-producer) of the model.
    The gateways keep coproducer_commission 0 and null differences by role. A sale outside the
    rules' scope (split_scope_note: the account is not the producer, ADDON commissions, money not
    in BRL) keeps its parts and differences but has split_mismatch null: it is not compared.

    Readings of the rules document where it leaves a choice (the lead settles them there):
    - "a product with no row" is read as no row valid on the paid date: a product whose rows
      all lie outside that date falls back to the tenant's default row, then to the vars;
    - a payment with no paid date (none in practice for these statuses) takes the vars.

    Incremental: a daily build re-splits the payments int_payments changed after this mart's
    newest row (changed_at), and every payment of a tenant whose split terms changed: its
    control.split_rates rows (split_rates_fingerprint) or its split_tolerance. A re-split
    payment that no longer took money is written, then deleted by the post-hook, so a row
    leaves when its payment leaves the split (delete+insert alone only replaces rows).
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

split_rates as (
    select * from {{ ref('stg_control__split_rates') }}
),

tolerances as (
    select * from {{ ref('stg_control__tolerances') }}
),

split_terms as (
    {{ tenant_fingerprints('split_rates', 'control_rows.split_rate_id') }}
),

{% if is_incremental() -%}
tenants_with_new_terms as (
    select tenants.tenant_id
    from {{ tenants_of(this) }} as tenants
    cross join lateral (
        select split.split_rates_fingerprint, split.split_tolerance
        from {{ this }} as split
        where split.tenant_id = tenants.tenant_id
        limit 1
    ) as applied
    left join split_terms
        on tenants.tenant_id = split_terms.tenant_id
    left join tolerances
        on tenants.tenant_id = tolerances.tenant_id
    where (applied.split_rates_fingerprint, applied.split_tolerance) is distinct from (
        split_terms.fingerprint,
        cast({{ tenant_tolerance('split_tolerance') }} as numeric(18, 2))
    )
),

payments_to_split as (
    select tenant_id, platform, payment_id
    from payments
    where changed_at > {{ changed_since() }}
    union
    select payments.tenant_id, payments.platform, payments.payment_id
    from payments
    inner join tenants_with_new_terms
        on payments.tenant_id = tenants_with_new_terms.tenant_id
),

{#- Every payment re-split, including those that no longer took money (post-hook). #}
payments_that_took_money as (
    select payments.*
    from payments
    inner join payments_to_split
        on payments.tenant_id = payments_to_split.tenant_id
        and payments.platform = payments_to_split.platform
        and payments.payment_id = payments_to_split.payment_id
),

{% else -%}
payments_that_took_money as (
    select *
    from payments
    where payment_status in ('paid', 'refunded', 'charged_back')
),

{% endif -%}

rates_chosen as (
    select
        payments_that_took_money.*,
        case
            when product_rates.split_rate_id is not null then 'product'
            when tenant_rates.split_rate_id is not null then 'tenant'
            else 'default'
        end as rate_source,
        coalesce(product_rates.split_rate_id, tenant_rates.split_rate_id) as split_rate_id,
        cast(
            coalesce(
                product_rates.platform_fee_rate,
                tenant_rates.platform_fee_rate,
                {{ var('platform_fee_rate') }}
            ) as numeric(9, 6)
        ) as platform_fee_rate,
        cast(
            coalesce(
                product_rates.affiliate_rate,
                tenant_rates.affiliate_rate,
                {{ var('affiliate_rate') }}
            ) as numeric(9, 6)
        ) as affiliate_rate,
        cast(
            coalesce(
                case
                    when product_rates.split_rate_id is not null
                        then product_rates.coproducer_rate
                    else tenant_rates.coproducer_rate
                end,
                {{ var('coproducer_rate') }}
            ) as numeric(9, 6)
        ) as coproducer_rate,
        payments_that_took_money.platform in ('hotmart', 'kiwify') as is_sales_platform,
        cast({{ tenant_tolerance('split_tolerance') }} as numeric(18, 2)) as split_tolerance,
        split_terms.fingerprint as split_rates_fingerprint
    from payments_that_took_money
    left join split_rates as product_rates
        on payments_that_took_money.tenant_id = product_rates.tenant_id
        and payments_that_took_money.product_id = product_rates.product_id
        and payments_that_took_money.paid_date >= product_rates.valid_from
        and (
            product_rates.valid_to is null
            or payments_that_took_money.paid_date <= product_rates.valid_to
        )
    left join split_rates as tenant_rates
        on payments_that_took_money.tenant_id = tenant_rates.tenant_id
        and tenant_rates.product_id is null
        and payments_that_took_money.paid_date >= tenant_rates.valid_from
        and (
            tenant_rates.valid_to is null
            or payments_that_took_money.paid_date <= tenant_rates.valid_to
        )
    left join tolerances
        on payments_that_took_money.tenant_id = tolerances.tenant_id
    left join split_terms
        on payments_that_took_money.tenant_id = split_terms.tenant_id
),

platform_fee_computed as (
    select
        *,
        cast(
            case
                when is_sales_platform then fee_amount
                else round(gross_amount * platform_fee_rate, 2)
            end as numeric(18, 2)
        ) as platform_fee
    from rates_chosen
),

affiliate_commission_computed as (
    select
        *,
        case
            when affiliate_id is not null
                then cast(
                    round((gross_amount - platform_fee) * affiliate_rate, 2) as numeric(18, 2)
                )
            else cast(0 as numeric(18, 2))
        end as affiliate_commission
    from platform_fee_computed
),

coproducer_commission_computed as (
    select
        *,
        case
            when is_sales_platform
                then cast(
                    round(
                        (gross_amount - platform_fee - affiliate_commission) * coproducer_rate, 2
                    ) as numeric(18, 2)
                )
            else cast(0 as numeric(18, 2))
        end as model_coproducer_commission
    from affiliate_commission_computed
),

reported_compared as (
    select
        *,
        cast(
            gross_amount - platform_fee - affiliate_commission - model_coproducer_commission
            as numeric(18, 2)
        ) as producer_amount,
        case
            when is_sales_platform then 'commissions_by_role'
            when platform in ('stripe', 'mercadopago') then 'platform_fee'
            else 'affiliate_commission'
        end as reported_split_part,
        cast(
            case
                when is_sales_platform
                    then split_withheld_amount - affiliate_commission - model_coproducer_commission
                when coalesce(split_withheld_amount, 0) = 0 then null
                when platform in ('stripe', 'mercadopago')
                    then split_withheld_amount - platform_fee
                else split_withheld_amount - affiliate_commission
            end as numeric(18, 2)
        ) as split_difference,
        cast(
            case
                when is_sales_platform
                    then coalesce(affiliate_commission_reported, 0) - affiliate_commission
            end as numeric(18, 2)
        ) as affiliate_difference,
        cast(
            case
                when is_sales_platform
                    then coalesce(coproducer_commission, 0) - model_coproducer_commission
            end as numeric(18, 2)
        ) as coproducer_difference,
        cast(
            case
                when is_sales_platform
                    then coalesce(stated_net_amount, net_amount)
                        - (gross_amount - platform_fee - affiliate_commission
                            - model_coproducer_commission)
            end as numeric(18, 2)
        ) as producer_difference
    from coproducer_commission_computed
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
        payment_status,
        paid_date,
        gross_amount,
        rate_source,
        split_rate_id,
        platform_fee_rate,
        affiliate_rate,
        coproducer_rate,
        platform_fee,
        affiliate_commission,
        model_coproducer_commission as coproducer_commission,
        producer_amount,
        split_withheld_amount,
        reported_split_part,
        split_difference,
        affiliate_commission_reported as reported_affiliate_commission,
        case when is_sales_platform then coproducer_commission end
            as reported_coproducer_commission,
        case when is_sales_platform then stated_net_amount end as stated_net_amount,
        affiliate_difference,
        coproducer_difference,
        producer_difference,
        split_scope_note,
        case
            when split_scope_note is not null then null
            when is_sales_platform
                then greatest(
                    abs(affiliate_difference), abs(coproducer_difference), abs(producer_difference)
                ) > split_tolerance
            else coalesce(abs(split_difference) > split_tolerance, false)
        end as split_mismatch,
        split_tolerance,
        split_rates_fingerprint,
        {{ build_time() }} as changed_at
    from reported_compared
)

select * from final
