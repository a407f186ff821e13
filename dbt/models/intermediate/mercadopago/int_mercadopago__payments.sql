{#
    Mercado Pago payments as canonical payments (docs/payment-reconciliation-rules.md): fee and
    split from `fee_details`, the stated net `transaction_details.net_received_amount`,
    R = `money_release_date`, and the payout: the day's release
    'mercadopago:<integration>:<R>' for released payments only (canonical status paid,
    refunded or charged_back, R before the as-of date, and not refunded on or before R).

    Readings of the rules document where it leaves a choice (the lead settles them there):
    - the payout id is written 'mercadopago:' ∥ integration ∥ ':' ∥ R (the document's
      'mercadopago:' ∥ integration ∥ R with a separator before the date);
    - "not refunded on or before R" uses refunded_at, which only a payment whose canonical
      status is `refunded` has (a partial refund does not take a payment out of its release);
    - `in_mediation` (a claim under way, the money held) is not in the status table: it is
      read as `paid` until Mercado Pago decides it (then `charged_back` or back to approved);
    - refunded_at is the latest `refunds[].date_created` of the refunds not rejected or
      cancelled.

    Incremental: a daily build recomputes the payments loaded since the newest it holds
    (minus var('staging_reload_hours')), and the payments the new as-of date releases: a
    payout is named only once R is before the as-of date, so a row stored without one while
    it took money, with R now before the as-of date and no refund on or before R, gets it
    now. Nothing else changes a payment. changed_at is when the build that last wrote the
    row ran (int_payments reads the rows changed since its own last build).
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'payment_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'payment_id'], 'unique': true},
            {'columns': ['last_loaded_at']},
            {'columns': ['changed_at']},
            {'columns': ['payout_id', 'expected_release_date']},
        ],
    )
}}

with

all_payments as not materialized (
    select * from {{ ref('stg_mercadopago__payments') }}
),

all_refunds as not materialized (
    select * from {{ ref('int_mercadopago__refunds') }}
),

{% if is_incremental() -%}
payments_to_compute as (
    select tenant_id, payment_id
    from all_payments
    where loaded_at >= {{ reload_since('last_loaded_at') }}
    union
    select tenant_id, payment_id
    from {{ this }}
    where payout_id is null
        and expected_release_date < {{ as_of_date() }}
        and payment_status in ('paid', 'refunded', 'charged_back')
        and (
            refunded_at is null
            or {{ sao_paulo_date('refunded_at') }} > expected_release_date
        )
),

payments as (
    select all_payments.*
    from all_payments
    inner join payments_to_compute
        on all_payments.tenant_id = payments_to_compute.tenant_id
        and all_payments.payment_id = payments_to_compute.payment_id
),

refunds as (
    select all_refunds.*
    from all_refunds
    inner join payments_to_compute
        on all_refunds.tenant_id = payments_to_compute.tenant_id
        and all_refunds.payment_id = payments_to_compute.payment_id
),

{% else -%}
payments as (
    select * from all_payments
),

refunds as (
    select * from all_refunds
),

{% endif -%}

refunds_summarised as (
    select
        tenant_id,
        payment_id,
        max(created_at) as last_refunded_at,
        jsonb_agg(
            jsonb_build_object(
                'refund_id', refund_id,
                'amount', amount,
                'status', status,
                'created_at', created_at
            )
            order by created_at, refund_id
        ) as refunds
    from refunds
    group by tenant_id, payment_id
),

mapped as (
    select
        payments.tenant_id,
        'mercadopago' as platform,
        payments.integration_id,
        payments.payment_id,
        payments.external_reference as order_id,
        payments.product_id,
        payments.affiliate_id,
        case payments.payment_type_id
            when 'credit_card' then 'card'
            when 'bank_transfer' then 'pix'
            when 'ticket' then 'boleto'
            else payments.payment_type_id
        end as method,
        coalesce(payments.installments, 1) as installments,
        payments.status as gateway_status,
        case
            when payments.status = 'charged_back' then 'charged_back'
            when payments.status = 'refunded' then 'refunded'
            when payments.status in ('approved', 'in_mediation') then 'paid'
            when payments.status in ('pending', 'in_process', 'authorized') then 'pending'
            when payments.status = 'cancelled' then 'expired'
            when payments.status = 'rejected' then 'failed'
        end as payment_status,
        payments.transaction_amount as gross_amount,
        payments.processing_fee_amount as fee_amount,
        'gateway' as fee_source,
        payments.application_fee_amount as split_withheld_amount,
        payments.net_received_amount as stated_net_amount,
        payments.approved_at as paid_at,
        refunds_summarised.last_refunded_at,
        payments.money_release_date as expected_release_date,
        coalesce(refunds_summarised.refunds, '[]'::jsonb) as refunds,
        payments.loaded_at as last_loaded_at
    from payments
    left join refunds_summarised
        on payments.tenant_id = refunds_summarised.tenant_id
        and payments.payment_id = refunds_summarised.payment_id
),

refund_dated as (
    select
        *,
        case when payment_status = 'refunded' then last_refunded_at end as refunded_at
    from mapped
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
        cast(gross_amount as numeric(18, 2)) as gross_amount,
        cast(fee_amount as numeric(18, 2)) as fee_amount,
        fee_source,
        cast(split_withheld_amount as numeric(18, 2)) as split_withheld_amount,
        cast(gross_amount - fee_amount - split_withheld_amount as numeric(18, 2))
            as net_amount,
        cast(stated_net_amount as numeric(18, 2)) as stated_net_amount,
        paid_at,
        refunded_at,
        expected_release_date,
        case
            when payment_status in ('paid', 'refunded', 'charged_back')
                and expected_release_date < {{ as_of_date() }}
                and (
                    refunded_at is null
                    or {{ sao_paulo_date('refunded_at') }} > expected_release_date
                )
                then 'mercadopago:' || integration_id || ':' || expected_release_date
        end as payout_id,
        refunds,
        '[]'::jsonb as disputes,
        last_loaded_at,
        {{ build_time() }} as changed_at
    from refund_dated
)

select * from final
