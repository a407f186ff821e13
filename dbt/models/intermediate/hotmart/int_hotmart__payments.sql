{#
    Hotmart sales as canonical payments (docs/payment-reconciliation-rules.md, "Sales platforms:
    Hotmart and Kiwify"): one row per sale (a renewal and an order bump are sales of their own),
    from the latest /sales/history item with its price details (gross = total, fee = Hotmart's
    fee) and its commissions by role (coproducer and affiliate commissions are the split
    withheld, the PRODUCER commission the stated net), net = gross − fee − split_withheld.
    Hotmart publishes no release date: R = add_business_days(paid date, release_days) of the
    tenant's control.fee_schedules row (platform hotmart, the sale's method and installments)
    valid on the paid date. Hotmart has no payouts API: a released sale's payout is the day's
    deposit 'hotmart:' ∥ integration ∥ ':' ∥ R (int_hotmart__payouts).

    Readings of the rules document where it leaves a choice (dbt/DECISIONLOG.md 48):
    - the status is the latest history item's; a notification never changes it (a sale can
      leave PROTESTED back to COMPLETE, so "ever seen" would be wrong here), and a transaction
      known only from notifications is not a payment until the sync reads it (the sync re-reads
      every transaction a webhook names);
    - refunded_at (the rules: the first sync or notification that saw REFUNDED / CHARGEBACK) is
      set for canonical refunded and charged_back sales alike, since the payout condition needs
      the chargeback's date too: the earliest creation_date of a notification announcing that
      status (REFUNDED; CHARGEBACK, PROTESTED or DISPUTE), else the earliest load of a history
      version with it. PROTESTED and DISPUTE count as charged back there, as in the status table;
    - order_bump.parent_purchase_transaction and subscription.subscriber.code are read from the
      history item, else from the newest notification of the transaction that carries them (the
      REST history does not document them); subscription_id only when is_subscription;
    - gross is the price details' total; a sale with none (unpaid sales may have none) takes
      purchase.price.value; fee, split withheld and net are 0 for a sale that took no money;
    - method: CREDIT_CARD → card, PIX → pix, BILLET → boleto, any other type passed through as
      written (its contract cannot match: no R, no payout); installments absent or 0 → 1;
    - the affiliate is the AFFILIATE commission's ucode (the smallest, should there be several);
    - a took-money sale with no contract row has no R and no payout: it awaits release, as at
      PushinPay;
    - fee_source is 'gateway' (reported by the platform, as the marts' accepted values say);
    - split_scope_note says why a sale is outside the rules' scope of the split comparison (the
      account is not the sale's producer: commission_as other than PRODUCER, absent read as
      PRODUCER; ADDON commissions; a price, total or fee not in BRL, absent read as BRL); null
      when in scope. fct_payment_splits then leaves split_mismatch null.

    Incremental (the gateways' pattern, dbt/DECISIONLOG.md 44): a daily build recomputes the
    transactions touched since the newest load it holds (minus var('staging_reload_hours')): a
    history version, commissions, price details or a notification loaded; the sales the new
    as-of date releases (stored without a payout, took money, R now before the as-of date, not
    refunded or charged back on or before R); and every sale of a tenant whose fee schedules
    changed (fee_schedules_fingerprint: R comes from them). changed_at is when the build that
    last wrote the row ran (int_payments reads the rows changed since its own last build).
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

all_sales as not materialized (
    select * from {{ ref('stg_hotmart__sales') }}
),

all_commissions as not materialized (
    select * from {{ ref('stg_hotmart__commissions') }}
),

all_price_details as not materialized (
    select * from {{ ref('stg_hotmart__price_details') }}
),

all_notifications as not materialized (
    select * from {{ ref('stg_hotmart__webhook_events') }}
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

{% if is_incremental() -%}
{%- set loaded_since = reload_since('last_loaded_at') %}
tenants_with_new_fees as (
    select tenants.tenant_id
    from {{ tenants_of(this) }} as tenants
    cross join lateral (
        select computed.fee_schedules_fingerprint
        from {{ this }} as computed
        where computed.tenant_id = tenants.tenant_id
        limit 1
    ) as applied
    left join fee_terms
        on tenants.tenant_id = fee_terms.tenant_id
    where applied.fee_schedules_fingerprint is distinct from fee_terms.fingerprint
),

transactions_to_compute as (
    select tenant_id, transaction_id
    from all_sales
    where last_loaded_at >= {{ loaded_since }}
    union
    select tenant_id, transaction_id
    from all_commissions
    where loaded_at >= {{ loaded_since }}
    union
    select tenant_id, transaction_id
    from all_price_details
    where loaded_at >= {{ loaded_since }}
    union
    select tenant_id, transaction_id
    from all_notifications
    where loaded_at >= {{ loaded_since }}
        and transaction_id is not null
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
    inner join tenants_with_new_fees
        on computed.tenant_id = tenants_with_new_fees.tenant_id
),

sales as (
    select all_sales.*
    from all_sales
    inner join transactions_to_compute
        on all_sales.tenant_id = transactions_to_compute.tenant_id
        and all_sales.transaction_id = transactions_to_compute.transaction_id
),

commissions as (
    select all_commissions.*
    from all_commissions
    inner join transactions_to_compute
        on all_commissions.tenant_id = transactions_to_compute.tenant_id
        and all_commissions.transaction_id = transactions_to_compute.transaction_id
),

price_details as (
    select all_price_details.*
    from all_price_details
    inner join transactions_to_compute
        on all_price_details.tenant_id = transactions_to_compute.tenant_id
        and all_price_details.transaction_id = transactions_to_compute.transaction_id
),

notifications as (
    select all_notifications.*
    from all_notifications
    inner join transactions_to_compute
        on all_notifications.tenant_id = transactions_to_compute.tenant_id
        and all_notifications.transaction_id = transactions_to_compute.transaction_id
),

{% else -%}
sales as (
    select * from all_sales
),

commissions as (
    select * from all_commissions
),

price_details as (
    select * from all_price_details
),

notifications as (
    select * from all_notifications
),

{% endif -%}

notifications_summarised as (
    select
        tenant_id,
        transaction_id,
        min(created_at) filter (
            where purchase_status = 'REFUNDED' or event = 'PURCHASE_REFUNDED'
        ) as first_refunded_notified_at,
        min(created_at) filter (
            where purchase_status in ('CHARGEBACK', 'PROTESTED', 'DISPUTE')
                or event in ('PURCHASE_CHARGEBACK', 'PURCHASE_PROTEST')
        ) as first_charged_back_notified_at,
        (array_agg(parent_purchase_transaction order by created_at desc, event_id desc)
            filter (where parent_purchase_transaction is not null))[1]
            as parent_purchase_transaction,
        (array_agg(is_order_bump order by created_at desc, event_id desc)
            filter (where is_order_bump is not null))[1] as is_order_bump,
        (array_agg(subscriber_code order by created_at desc, event_id desc)
            filter (where subscriber_code is not null))[1] as subscriber_code,
        max(loaded_at) as last_loaded_at
    from notifications
    where transaction_id is not null
    group by tenant_id, transaction_id
),

joined as (
    select
        sales.tenant_id,
        sales.integration_id,
        sales.transaction_id,
        sales.product_id,
        sales.status,
        sales.payment_type,
        sales.installments_number,
        sales.is_subscription,
        sales.approved_at,
        sales.commission_as,
        coalesce(price_details.total_currency, sales.price_currency) as price_currency,
        price_details.fee_currency,
        coalesce(commissions.addon_commission, 0) as addon_commission,
        coalesce(sales.is_order_bump, notifications_summarised.is_order_bump, false)
            as is_order_bump,
        coalesce(
            sales.parent_purchase_transaction,
            notifications_summarised.parent_purchase_transaction
        ) as parent_purchase_transaction,
        coalesce(sales.subscriber_code, notifications_summarised.subscriber_code)
            as subscriber_code,
        coalesce(price_details.total_value, sales.price_value) as gross_amount,
        price_details.fee_value,
        commissions.transaction_id is not null as has_commissions,
        commissions.producer_commission,
        coalesce(commissions.coproducer_commission, 0) as coproducer_commission,
        coalesce(commissions.affiliate_commission, 0) as affiliate_commission,
        commissions.affiliate_ucode,
        coalesce(
            notifications_summarised.first_refunded_notified_at, sales.first_refunded_seen_at
        ) as first_refunded_at,
        coalesce(
            notifications_summarised.first_charged_back_notified_at,
            sales.first_charged_back_seen_at
        ) as first_charged_back_at,
        greatest(
            sales.last_loaded_at,
            commissions.loaded_at,
            price_details.loaded_at,
            notifications_summarised.last_loaded_at
        ) as last_loaded_at
    from sales
    left join price_details
        on sales.tenant_id = price_details.tenant_id
        and sales.transaction_id = price_details.transaction_id
    left join commissions
        on sales.tenant_id = commissions.tenant_id
        and sales.transaction_id = commissions.transaction_id
    left join notifications_summarised
        on sales.tenant_id = notifications_summarised.tenant_id
        and sales.transaction_id = notifications_summarised.transaction_id
),

mapped as (
    select
        *,
        case
            when status in ('CHARGEBACK', 'PROTESTED', 'DISPUTE') then 'charged_back'
            when status = 'REFUNDED' then 'refunded'
            when status in ('APPROVED', 'COMPLETE', 'PARTIALLY_REFUNDED') then 'paid'
            when status in (
                'WAITING_PAYMENT', 'PRINTED_BILLET', 'PROCESSING_TRANSACTION', 'UNDER_ANALISYS',
                'STARTED', 'PRE_ORDER', 'OVERDUE'
            ) then 'pending'
            when status = 'EXPIRED' then 'expired'
            when status in ('CANCELLED', 'NO_FUNDS', 'BLOCKED') then 'failed'
        end as payment_status,
        case payment_type
            when 'CREDIT_CARD' then 'card'
            when 'PIX' then 'pix'
            when 'BILLET' then 'boleto'
            else payment_type
        end as method,
        greatest(coalesce(installments_number, 1), 1) as installments,
        {{ sao_paulo_date('approved_at') }} as paid_date
    from joined
),

took_money as (
    select
        *,
        payment_status in ('paid', 'refunded', 'charged_back') as took_money,
        case payment_status
            when 'refunded' then first_refunded_at
            when 'charged_back' then first_charged_back_at
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
        and fee_schedules.platform = 'hotmart'
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

fingerprinted as (
    select
        released.*,
        fee_terms.fingerprint as fee_schedules_fingerprint
    from released
    left join fee_terms
        on released.tenant_id = fee_terms.tenant_id
),

final as (
    select
        tenant_id,
        'hotmart' as platform,
        integration_id,
        transaction_id as payment_id,
        case
            when is_order_bump and parent_purchase_transaction is not null
                then parent_purchase_transaction
            else transaction_id
        end as order_id,
        product_id,
        affiliate_ucode as affiliate_id,
        method,
        installments,
        status as gateway_status,
        payment_status,
        cast(gross_amount as numeric(18, 2)) as gross_amount,
        cast(case when took_money then fee_value else 0 end as numeric(18, 2)) as fee_amount,
        'gateway' as fee_source,
        cast(
            case when took_money then coproducer_commission + affiliate_commission else 0 end
            as numeric(18, 2)
        ) as split_withheld_amount,
        cast(
            case
                when took_money
                    then gross_amount - fee_value - coproducer_commission - affiliate_commission
                else 0
            end as numeric(18, 2)
        ) as net_amount,
        cast(producer_commission as numeric(18, 2)) as stated_net_amount,
        approved_at as paid_at,
        refunded_at,
        expected_release_date,
        case
            when took_money
                and expected_release_date < {{ as_of_date() }}
                and (
                    refunded_at is null
                    or {{ sao_paulo_date('refunded_at') }} > expected_release_date
                )
                then 'hotmart:' || integration_id || ':' || expected_release_date
        end as payout_id,
        case
            when payment_status = 'refunded'
                then jsonb_build_array(jsonb_build_object(
                    'status', status, 'refunded_at', refunded_at
                ))
            else '[]'::jsonb
        end as refunds,
        case
            when payment_status = 'charged_back'
                then jsonb_build_array(jsonb_build_object(
                    'status', status, 'charged_back_at', refunded_at
                ))
            else '[]'::jsonb
        end as disputes,
        case when is_subscription then subscriber_code end as subscription_id,
        cast(case when took_money then coproducer_commission else 0 end as numeric(18, 2))
            as coproducer_commission,
        cast(case when took_money then affiliate_commission else 0 end as numeric(18, 2))
            as affiliate_commission_reported,
        case
            when coalesce(commission_as, 'PRODUCER') <> 'PRODUCER'
                then 'commission_as ' || commission_as
            when addon_commission <> 0 then 'addon commissions'
            when coalesce(price_currency, 'BRL') <> 'BRL' or coalesce(fee_currency, 'BRL') <> 'BRL'
                then 'currency ' || coalesce(price_currency, 'BRL') || '/'
                    || coalesce(fee_currency, 'BRL')
        end as split_scope_note,
        fee_schedules_fingerprint,
        last_loaded_at,
        {{ build_time() }} as changed_at
    from fingerprinted
)

select * from final
