{#
    Kiwify sales as canonical payments (docs/payment-reconciliation-rules.md, "Sales platforms:
    Hotmart and Kiwify"): one row per sale (a renewal is a new order id with the subscription's
    subscription_id; an order bump a sale of its own whose order is parent_order_id). gross =
    payment.charge_amount, fee = payment.fee (Kiwify's), split withheld = the co-producers'
    revenue_partners[].net_amount_split + affiliate_commission.amount, net = gross − fee − split
    withheld, stated net = payment.net_amount (all centavos / 100). Kiwify publishes no release
    date: R = add_business_days(paid date, release_days) of the tenant's control.fee_schedules
    row (platform kiwify, the sale's method and installments) valid on the paid date. A released
    sale's payout is the integration's first payout object dated on or after R
    (int_kiwify__payouts): Kiwify's payouts are withdrawals, a daily one takes the day's release,
    a hand-made one what was released since the last; none while Kiwify lists none.

    Readings of the rules document where it leaves a choice (dbt/DECISIONLOG.md 48):
    - "the partners other than the account itself": a revenue partner is the account itself when
      its document_id is one of the integration's payout_documents (by digits); the API gives
      the account's own account_id only as a credential, which dbt never reads. A partner
      without a document is another party;
    - refunded_at is Kiwify's `refunded_at`, kept for canonical refunded and charged_back sales
      (the payout condition needs the chargeback's date); a chargeback without one is dated by
      the first sync that saw it chargedback (stg_kiwify__sales.first_charged_back_seen_at);
    - the status is the latest sale object's; notifications are not read here (the sync re-reads
      every order a webhook names), and an order known only from a notification is not a
      payment until the sync reads it;
    - fee, split withheld and net are 0 for a sale that took no money; the stated net is kept as
      Kiwify states it;
    - method: credit_card → card, pix, boleto, anything else passed through as written;
    - payouts with a status that means the money never left (failed, refused, rejected,
      canceled, cancelled) are not payouts; when several payout objects of the integration share
      the first date on or after R, the sale's payout is the earliest created (then the smallest
      id): each object is still a payout of its own in int_kiwify__payouts, matched by itself;
    - the first payout on or after R is found by equality, not by a range join: each payout date
      (its first object) covers the days after the integration's previous payout date up to it,
      and a sale joins the day that is its R (linear in the days, as dbt/DECISIONLOG.md 43);
    - amounts are taken as reais whatever `fee_currency` / `settlement_currency` say (the
      currencies are in staging for a check the rules do not make yet);
    - a took-money sale with no contract row has no R and no payout: it awaits release;
    - split_scope_note says why a sale is outside the rules' scope of the split comparison: a
      charge, fee or settlement currency other than BRL (absent read as BRL); null when in scope
      (which role the account has in a sale the API does not say: every sale is read as the
      producer's). fct_payment_splits then leaves split_mismatch null.

    Incremental (the gateways' pattern, dbt/DECISIONLOG.md 44): a daily build recomputes the
    sales loaded since the newest load it holds (minus var('staging_reload_hours')); the sales
    a changed payout object can move (its integration's took-money sales with R on or before
    the latest changed date whose stored payout is none, dated on or after the earliest changed
    date, or one of the changed objects); the sales the new as-of date releases; every sale of a
    tenant whose fee schedules (R) or Kiwify payout documents (which partner is the account
    itself) changed, by fingerprint. changed_at is when the build that last wrote the row ran.
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
            {'columns': ['tenant_id', 'integration_id', 'expected_release_date']},
        ],
    )
}}

with

all_sales as not materialized (
    select * from {{ ref('stg_kiwify__sales') }}
),

payouts as (
    select * from {{ ref('stg_kiwify__payouts') }}
),

integrations as (
    select * from {{ ref('stg_control__integrations') }}
),

fee_schedules as (
    select * from {{ ref('stg_control__fee_schedules') }}
),

calendar as (
    select * from {{ ref('int_calendar__business_days') }}
),

fee_terms as (
    {{ tenant_fingerprints('fee_schedules', 'control_rows.fee_schedule_id') }}
),

kiwify_integrations as (
    select
        integrations.tenant_id,
        integrations.integration_id,
        integrations.external_ids -> 'payout_documents' as payout_documents
    from integrations
    where integrations.provider = 'kiwify'
),

document_terms as (
    {{ tenant_fingerprints('kiwify_integrations', 'control_rows.integration_id') }}
),

{% if is_incremental() -%}
{%- set loaded_since = reload_since('last_loaded_at') %}
tenants_with_new_terms as (
    select tenants.tenant_id
    from {{ tenants_of(this) }} as tenants
    cross join lateral (
        select computed.fee_schedules_fingerprint, computed.payout_documents_fingerprint
        from {{ this }} as computed
        where computed.tenant_id = tenants.tenant_id
        limit 1
    ) as applied
    left join fee_terms
        on tenants.tenant_id = fee_terms.tenant_id
    left join document_terms
        on tenants.tenant_id = document_terms.tenant_id
    where (applied.fee_schedules_fingerprint, applied.payout_documents_fingerprint)
        is distinct from (fee_terms.fingerprint, document_terms.fingerprint)
),

changed_payouts as (
    select tenant_id, integration_id, payout_id, payout_date
    from payouts
    where loaded_at >= {{ loaded_since }}
),

changed_payout_days as (
    select
        tenant_id,
        integration_id,
        min(payout_date) as earliest_date,
        max(payout_date) as latest_date
    from changed_payouts
    group by tenant_id, integration_id
),

sales_to_compute as (
    select tenant_id, sale_id
    from all_sales
    where loaded_at >= {{ loaded_since }}
    union
    select computed.tenant_id, computed.payment_id
    from {{ this }} as computed
    inner join changed_payout_days
        on computed.tenant_id = changed_payout_days.tenant_id
        and computed.integration_id = changed_payout_days.integration_id
        and computed.expected_release_date <= changed_payout_days.latest_date
    where computed.payment_status in ('paid', 'refunded', 'charged_back')
        and (
            computed.payout_id is null
            or computed.payout_date >= changed_payout_days.earliest_date
        )
    union
    select computed.tenant_id, computed.payment_id
    from {{ this }} as computed
    inner join changed_payouts
        on computed.tenant_id = changed_payouts.tenant_id
        and computed.payout_id = changed_payouts.payout_id
    union
    select tenant_id, payment_id
    from {{ this }}
    where payout_id is null
        and payment_status in ('paid', 'refunded', 'charged_back')
        and expected_release_date < {{ as_of_date() }}
        and (refunded_at is null or {{ sao_paulo_date('refunded_at') }} > expected_release_date)
    union
    select computed.tenant_id, computed.payment_id
    from {{ this }} as computed
    inner join tenants_with_new_terms
        on computed.tenant_id = tenants_with_new_terms.tenant_id
),

sales as (
    select all_sales.*
    from all_sales
    inner join sales_to_compute
        on all_sales.tenant_id = sales_to_compute.tenant_id
        and all_sales.sale_id = sales_to_compute.sale_id
),

{% else -%}
sales as (
    select * from all_sales
),

{% endif -%}

account_documents as (
    select distinct
        integrations.integration_id,
        {{ digits_only('documents.document') }} as document
    from integrations
    cross join lateral jsonb_array_elements_text(
        case jsonb_typeof(integrations.external_ids -> 'payout_documents')
            when 'array' then integrations.external_ids -> 'payout_documents'
            when 'string' then to_jsonb(
                regexp_split_to_array(
                    trim(integrations.external_ids ->> 'payout_documents'), '[,;[:space:]]+'
                )
            )
            else '[]'::jsonb
        end
    ) as documents (document)
    where integrations.provider = 'kiwify'
),

partners as (
    select
        sales.tenant_id,
        sales.sale_id,
        sum(cast(partner ->> 'net_amount_split' as numeric)) filter (
            where account_documents.document is null
        ) / 100 as coproducer_cents_sum
    from sales
    cross join lateral jsonb_array_elements(sales.revenue_partners) as partner
    left join account_documents
        on sales.integration_id = account_documents.integration_id
        and {{ digits_only("partner ->> 'document_id'") }} = account_documents.document
    group by sales.tenant_id, sales.sale_id
),

mapped as (
    select
        sales.tenant_id,
        sales.integration_id,
        sales.sale_id,
        coalesce(sales.parent_order_id, sales.sale_id) as order_id,
        sales.product_id,
        sales.affiliate_document as affiliate_id,
        sales.subscription_id,
        case sales.payment_method
            when 'credit_card' then 'card'
            when 'pix' then 'pix'
            when 'boleto' then 'boleto'
            else sales.payment_method
        end as method,
        coalesce(sales.installments, 1) as installments,
        sales.status,
        case
            when sales.status = 'chargedback' then 'charged_back'
            when sales.status = 'refunded' then 'refunded'
            when sales.status in ('paid', 'approved', 'refund_requested', 'pending_refund')
                then 'paid'
            when sales.status in ('waiting_payment', 'pending', 'processing', 'authorized')
                then 'pending'
            when sales.status = 'refused' then 'failed'
        end as payment_status,
        sales.charge_amount as gross_amount,
        sales.fee_amount,
        coalesce(partners.coproducer_cents_sum, 0) as coproducer_commission,
        coalesce(sales.affiliate_commission_amount, 0) as affiliate_commission,
        sales.net_amount as stated_net_amount,
        sales.approved_at,
        case
            when coalesce(sales.charge_currency, 'BRL') <> 'BRL'
                or coalesce(sales.fee_currency, 'BRL') <> 'BRL'
                or coalesce(sales.settlement_currency, 'BRL') <> 'BRL'
                then 'currency ' || concat_ws(
                    '/',
                    coalesce(sales.charge_currency, 'BRL'),
                    coalesce(sales.fee_currency, 'BRL'),
                    coalesce(sales.settlement_currency, 'BRL')
                )
        end as split_scope_note,
        case
            when sales.status = 'chargedback'
                then coalesce(sales.refunded_at, sales.first_charged_back_seen_at)
            else sales.refunded_at
        end as kiwify_refunded_at,
        sales.loaded_at,
        {{ sao_paulo_date('sales.approved_at') }} as paid_date
    from sales
    left join partners
        on sales.tenant_id = partners.tenant_id
        and sales.sale_id = partners.sale_id
),

took_money as (
    select
        *,
        payment_status in ('paid', 'refunded', 'charged_back') as took_money,
        case
            when payment_status in ('refunded', 'charged_back') then kiwify_refunded_at
        end as refunded_at
    from mapped
),

contracted as (
    select
        took_money.*,
        fee_schedules.release_days
    from took_money
    left join fee_schedules
        on took_money.tenant_id = fee_schedules.tenant_id
        and fee_schedules.platform = 'kiwify'
        and took_money.method = fee_schedules.method
        and took_money.installments
            between fee_schedules.installments_from and fee_schedules.installments_to
        and took_money.paid_date >= fee_schedules.valid_from
        and (fee_schedules.valid_to is null or took_money.paid_date <= fee_schedules.valid_to)
),

released as (
    select
        contracted.*,
        case
            when contracted.release_days = 0 then contracted.paid_date
            else release_day.date_day
        end as expected_release_date
    from contracted
    left join calendar as paid_day
        on contracted.paid_date = paid_day.date_day
    left join calendar as release_day
        on release_day.is_business_day
        and release_day.business_day_index
            = paid_day.business_day_index + contracted.release_days
),

is_released as (
    select
        *,
        took_money
        and expected_release_date < {{ as_of_date() }}
        and (
            refunded_at is null
            or {{ sao_paulo_date('refunded_at') }} > expected_release_date
        ) as is_released
    from released
),

{#- The first object of each payout date, and the days it collects: those after the
    integration's previous payout date, up to its own (from the calendar's first day for the
    integration's first payout). #}
day_payouts as (
    select distinct on (tenant_id, integration_id, payout_date)
        tenant_id,
        integration_id,
        payout_date,
        payout_id
    from payouts
    where coalesce(lower(status), '') not in
        ('failed', 'refused', 'rejected', 'canceled', 'cancelled')
    order by tenant_id, integration_id, payout_date, created_at, payout_id
),

payout_windows as (
    select
        day_payouts.*,
        lag(payout_date) over (
            partition by tenant_id, integration_id order by payout_date
        ) as previous_payout_date
    from day_payouts
),

released_days as (
    select distinct tenant_id, integration_id, expected_release_date
    from is_released
    where is_released
),

payout_of_release_day as (
    select
        released_days.tenant_id,
        released_days.integration_id,
        released_days.expected_release_date,
        payout_windows.payout_id,
        payout_windows.payout_date
    from payout_windows
    cross join lateral generate_series(
        coalesce(
            payout_windows.previous_payout_date + 1,
            (select min(date_day) from calendar)
        ),
        payout_windows.payout_date,
        interval '1 day'
    ) as collected (collected_day)
    inner join released_days
        on payout_windows.tenant_id = released_days.tenant_id
        and payout_windows.integration_id = released_days.integration_id
        and cast(collected.collected_day as date) = released_days.expected_release_date
),

fingerprinted as (
    select
        is_released.*,
        fee_terms.fingerprint as fee_schedules_fingerprint,
        document_terms.fingerprint as payout_documents_fingerprint
    from is_released
    left join fee_terms
        on is_released.tenant_id = fee_terms.tenant_id
    left join document_terms
        on is_released.tenant_id = document_terms.tenant_id
),

final as (
    select
        fingerprinted.tenant_id,
        'kiwify' as platform,
        fingerprinted.integration_id,
        fingerprinted.sale_id as payment_id,
        fingerprinted.order_id,
        fingerprinted.product_id,
        fingerprinted.affiliate_id,
        fingerprinted.method,
        fingerprinted.installments,
        fingerprinted.status as gateway_status,
        fingerprinted.payment_status,
        cast(fingerprinted.gross_amount as numeric(18, 2)) as gross_amount,
        cast(
            case when fingerprinted.took_money then fingerprinted.fee_amount else 0 end
            as numeric(18, 2)
        ) as fee_amount,
        'gateway' as fee_source,
        cast(
            case
                when fingerprinted.took_money
                    then fingerprinted.coproducer_commission + fingerprinted.affiliate_commission
                else 0
            end as numeric(18, 2)
        ) as split_withheld_amount,
        cast(
            case
                when fingerprinted.took_money
                    then fingerprinted.gross_amount - fingerprinted.fee_amount
                        - fingerprinted.coproducer_commission - fingerprinted.affiliate_commission
                else 0
            end as numeric(18, 2)
        ) as net_amount,
        cast(fingerprinted.stated_net_amount as numeric(18, 2)) as stated_net_amount,
        fingerprinted.approved_at as paid_at,
        fingerprinted.refunded_at,
        fingerprinted.expected_release_date,
        case when fingerprinted.is_released then payout_of_release_day.payout_id end
            as payout_id,
        case when fingerprinted.is_released then payout_of_release_day.payout_date end
            as payout_date,
        case
            when fingerprinted.payment_status = 'refunded'
                then jsonb_build_array(jsonb_build_object(
                    'status', fingerprinted.status, 'refunded_at', fingerprinted.refunded_at
                ))
            else '[]'::jsonb
        end as refunds,
        case
            when fingerprinted.payment_status = 'charged_back'
                then jsonb_build_array(jsonb_build_object(
                    'status', fingerprinted.status, 'charged_back_at', fingerprinted.refunded_at
                ))
            else '[]'::jsonb
        end as disputes,
        fingerprinted.subscription_id,
        cast(
            case when fingerprinted.took_money then fingerprinted.coproducer_commission else 0 end
            as numeric(18, 2)
        ) as coproducer_commission,
        cast(
            case when fingerprinted.took_money then fingerprinted.affiliate_commission else 0 end
            as numeric(18, 2)
        ) as affiliate_commission_reported,
        fingerprinted.split_scope_note,
        fingerprinted.fee_schedules_fingerprint,
        fingerprinted.payout_documents_fingerprint,
        fingerprinted.loaded_at as last_loaded_at,
        {{ build_time() }} as changed_at
    from fingerprinted
    left join payout_of_release_day
        on fingerprinted.tenant_id = payout_of_release_day.tenant_id
        and fingerprinted.integration_id = payout_of_release_day.integration_id
        and fingerprinted.expected_release_date = payout_of_release_day.expected_release_date
)

select * from final
