{#
    Kiwify sales as canonical payments (docs/payment-reconciliation-rules.md, "Sales platforms:
    Hotmart and Kiwify"): one row per sale (a renewal is a new order id with the subscription's
    subscription_id; an order bump a sale of its own whose order is parent_order_id). gross =
    payment.charge_amount, fee = payment.fee (Kiwify's), split withheld = the co-producers'
    revenue_partners[].net_amount_split + affiliate_commission.amount, net = gross − fee − split
    withheld, stated net = payment.net_amount (all centavos / 100). Kiwify publishes no release
    date: R = add_business_days(paid date, release_days) of the tenant's control.fee_schedules
    row (platform kiwify, the sale's method and installments) valid on the paid date. A released
    sale's payout is the integration's payout object dated R (int_kiwify__payouts); none when
    Kiwify lists no payout that day.

    Readings of the rules document where it leaves a choice (dbt/DECISIONLOG.md 48):
    - "the partners other than the account itself": a revenue partner is the account itself when
      its document_id is one of the integration's payout_documents (by digits); the API gives
      the account's own account_id only as a credential, which dbt never reads. A partner
      without a document is another party;
    - refunded_at is Kiwify's `refunded_at`, kept for canonical refunded and charged_back sales
      (the payout condition needs the chargeback's date; Kiwify writes no other);
    - the status is the latest sale object's; notifications are not read here (the sync re-reads
      every order a webhook names), and an order known only from a notification is not a
      payment until the sync reads it;
    - fee, split withheld and net are 0 for a sale that took no money; the stated net is kept as
      Kiwify states it;
    - method: credit_card → card, pix, boleto, anything else passed through as written;
    - payouts with a status that means the money never left (failed, refused, rejected,
      canceled, cancelled) are not payouts; when several payout objects of the integration share
      the date R, the sale's payout is the earliest created (then the smallest id): each object
      is still a payout of its own in int_kiwify__payouts and is matched by itself;
    - amounts are taken as reais whatever `fee_currency` / `settlement_currency` say (the
      currencies are in staging for a check the rules do not make yet);
    - a took-money sale with no contract row has no R and no payout: it awaits release.
#}
with

sales as (
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
        sales.refunded_at as kiwify_refunded_at,
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

final as (
    select
        is_released.tenant_id,
        'kiwify' as platform,
        is_released.integration_id,
        is_released.sale_id as payment_id,
        is_released.order_id,
        is_released.product_id,
        is_released.affiliate_id,
        is_released.method,
        is_released.installments,
        is_released.status as gateway_status,
        is_released.payment_status,
        cast(is_released.gross_amount as numeric(18, 2)) as gross_amount,
        cast(
            case when is_released.took_money then is_released.fee_amount else 0 end
            as numeric(18, 2)
        ) as fee_amount,
        'gateway' as fee_source,
        cast(
            case
                when is_released.took_money
                    then is_released.coproducer_commission + is_released.affiliate_commission
                else 0
            end as numeric(18, 2)
        ) as split_withheld_amount,
        cast(
            case
                when is_released.took_money
                    then is_released.gross_amount - is_released.fee_amount
                        - is_released.coproducer_commission - is_released.affiliate_commission
                else 0
            end as numeric(18, 2)
        ) as net_amount,
        cast(is_released.stated_net_amount as numeric(18, 2)) as stated_net_amount,
        is_released.approved_at as paid_at,
        is_released.refunded_at,
        is_released.expected_release_date,
        case when is_released.is_released then day_payouts.payout_id end as payout_id,
        case
            when is_released.payment_status = 'refunded'
                then jsonb_build_array(jsonb_build_object(
                    'status', is_released.status, 'refunded_at', is_released.refunded_at
                ))
            else '[]'::jsonb
        end as refunds,
        case
            when is_released.payment_status = 'charged_back'
                then jsonb_build_array(jsonb_build_object(
                    'status', is_released.status, 'charged_back_at', is_released.refunded_at
                ))
            else '[]'::jsonb
        end as disputes,
        is_released.subscription_id,
        cast(
            case when is_released.took_money then is_released.coproducer_commission else 0 end
            as numeric(18, 2)
        ) as coproducer_commission,
        cast(
            case when is_released.took_money then is_released.affiliate_commission else 0 end
            as numeric(18, 2)
        ) as affiliate_commission_reported
    from is_released
    left join day_payouts
        on is_released.tenant_id = day_payouts.tenant_id
        and is_released.integration_id = day_payouts.integration_id
        and is_released.expected_release_date = day_payouts.payout_date
)

select * from final
