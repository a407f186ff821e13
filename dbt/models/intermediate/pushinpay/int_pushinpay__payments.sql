{#
    PushinPay Pix transactions as canonical payments (docs/payment-reconciliation-rules.md).
    PushinPay reports no payment time, fee, net or release date, so:
    - paid_at = the first time a `paid` status was seen: the earliest received_at of the `paid`
      notifications (when PushinPay delivered them), and only when no notification says so, the
      earliest load of a confirmed transaction with status `paid`; refunded_at likewise for
      `refunded`. Notifications first: they are PushinPay's own moment, and a confirmation is
      only when our sync happened to look (a replay of past notifications keeps their time);
    - fee = the contracted fee round(gross × percent_fee / 100 + fixed_fee, 2) of the
      control.fee_schedules row (platform pushinpay, method pix, 1 installment) valid on the
      paid date, and R = add_business_days(paid date, that row's release_days);
    - the payout is the day's sweep 'pushinpay:<integration>:<R>' of the paid payments with
      R before the as-of date.

    Readings of the rules document where it leaves a choice (the lead settles them there):
    - the canonical status is decided by what was ever seen, not by the last row landed
      (notifications may arrive out of order): refunded if `refunded` was seen, else paid if
      `paid` was seen, else the newest observation's status (created → pending, canceled or
      expired → expired);
    - a transaction known only from notifications (its GET failed) is still a payment, with
      the gross of its latest notification and no references;
    - a paid payment with no contract row has no fee, net or R (null): its fee audit says
      no_contract and it waits as awaiting_release until a contract is entered;
    - a payment that took no money has fee 0;
    - the payout id is written 'pushinpay:' ∥ integration ∥ ':' ∥ R.

    Incremental: a daily build recomputes the transactions touched since the newest load it
    holds (minus var('staging_reload_hours')): a version or a notification loaded; the paid
    payments the new as-of date releases (stored without a payout, R now before the as-of
    date); and every payment of a tenant whose fee schedules changed (fee_schedules_fingerprint,
    over all its control.fee_schedules rows: the fee and R come from them). changed_at is when
    the build that last wrote the row ran (int_payments reads the rows changed since its own
    last build).
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

all_transactions as not materialized (
    select * from {{ ref('stg_pushinpay__transactions') }}
),

all_notifications as not materialized (
    select * from {{ ref('stg_pushinpay__webhook_events') }}
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
    from all_transactions
    where last_loaded_at >= {{ loaded_since }}
    union
    select tenant_id, transaction_id
    from all_notifications
    where loaded_at >= {{ loaded_since }}
    union
    select tenant_id, payment_id
    from {{ this }}
    where payout_id is null
        and payment_status = 'paid'
        and expected_release_date < {{ as_of_date() }}
    union
    select computed.tenant_id, computed.payment_id
    from {{ this }} as computed
    inner join tenants_with_new_fees
        on computed.tenant_id = tenants_with_new_fees.tenant_id
),

transactions as (
    select all_transactions.*
    from all_transactions
    inner join transactions_to_compute
        on all_transactions.tenant_id = transactions_to_compute.tenant_id
        and all_transactions.transaction_id = transactions_to_compute.transaction_id
),

notifications as (
    select all_notifications.*
    from all_notifications
    inner join transactions_to_compute
        on all_notifications.tenant_id = transactions_to_compute.tenant_id
        and all_notifications.transaction_id = transactions_to_compute.transaction_id
),

{% else -%}
transactions as (
    select * from all_transactions
),

notifications as (
    select * from all_notifications
),

{% endif -%}

notifications_summarised as (
    select distinct on (tenant_id, transaction_id)
        tenant_id,
        transaction_id,
        integration_id,
        status as latest_status,
        seen_at as latest_seen_at,
        value as latest_value,
        min(seen_at) filter (where status = 'paid')
            over (partition by tenant_id, transaction_id) as first_paid_seen_at,
        min(seen_at) filter (where status = 'refunded')
            over (partition by tenant_id, transaction_id) as first_refunded_seen_at,
        max(loaded_at) over (partition by tenant_id, transaction_id) as last_loaded_at
    from notifications
    order by tenant_id, transaction_id, seen_at desc, notification_id desc
),

combined as (
    select
        coalesce(transactions.tenant_id, notifications_summarised.tenant_id) as tenant_id,
        coalesce(transactions.integration_id, notifications_summarised.integration_id)
            as integration_id,
        coalesce(transactions.transaction_id, notifications_summarised.transaction_id)
            as transaction_id,
        transactions.order_id,
        transactions.product_id,
        transactions.affiliate_id,
        case
            when notifications_summarised.latest_seen_at > transactions.seen_at
                or transactions.transaction_id is null
                then notifications_summarised.latest_status
            else transactions.status
        end as latest_status,
        coalesce(transactions.value, notifications_summarised.latest_value) as gross_amount,
        coalesce(transactions.split_rules_value, 0) as split_withheld_amount,
        coalesce(
            notifications_summarised.first_paid_seen_at, transactions.first_paid_seen_at
        ) as first_paid_seen_at,
        coalesce(
            notifications_summarised.first_refunded_seen_at,
            transactions.first_refunded_seen_at
        ) as first_refunded_seen_at,
        greatest(transactions.last_loaded_at, notifications_summarised.last_loaded_at)
            as last_loaded_at
    from transactions
    full outer join notifications_summarised
        on transactions.tenant_id = notifications_summarised.tenant_id
        and transactions.transaction_id = notifications_summarised.transaction_id
),

statuses as (
    select
        *,
        case
            when first_refunded_seen_at is not null then 'refunded'
            when first_paid_seen_at is not null then 'paid'
            when latest_status = 'created' then 'pending'
            when latest_status in ('canceled', 'expired') then 'expired'
        end as payment_status,
        {{ sao_paulo_date('first_paid_seen_at') }} as paid_date
    from combined
),

contracted as (
    select
        statuses.*,
        fee_schedules.fee_schedule_id,
        cast(
            round(
                statuses.gross_amount * fee_schedules.percent_fee / 100
                + fee_schedules.fixed_fee,
                2
            ) as numeric(18, 2)
        ) as contracted_fee_amount,
        fee_schedules.release_days
    from statuses
    left join fee_schedules
        on statuses.tenant_id = fee_schedules.tenant_id
        and fee_schedules.platform = 'pushinpay'
        and fee_schedules.method = 'pix'
        and 1 between fee_schedules.installments_from and fee_schedules.installments_to
        and statuses.paid_date >= fee_schedules.valid_from
        and (fee_schedules.valid_to is null or statuses.paid_date <= fee_schedules.valid_to)
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
        'pushinpay' as platform,
        integration_id,
        transaction_id as payment_id,
        order_id,
        product_id,
        affiliate_id,
        'pix' as method,
        1 as installments,
        latest_status as gateway_status,
        payment_status,
        cast(gross_amount as numeric(18, 2)) as gross_amount,
        cast(
            case
                when payment_status in ('paid', 'refunded', 'charged_back')
                    then contracted_fee_amount
                else 0
            end as numeric(18, 2)
        ) as fee_amount,
        'contract' as fee_source,
        cast(split_withheld_amount as numeric(18, 2)) as split_withheld_amount,
        cast(
            gross_amount
            - case
                when payment_status in ('paid', 'refunded', 'charged_back')
                    then contracted_fee_amount
                else 0
            end
            - split_withheld_amount
            as numeric(18, 2)
        ) as net_amount,
        cast(null as numeric(18, 2)) as stated_net_amount,
        first_paid_seen_at as paid_at,
        case when payment_status = 'refunded' then first_refunded_seen_at end as refunded_at,
        expected_release_date,
        case
            when payment_status = 'paid'
                and expected_release_date < {{ as_of_date() }}
                then 'pushinpay:' || integration_id || ':' || expected_release_date
        end as payout_id,
        '[]'::jsonb as refunds,
        '[]'::jsonb as disputes,
        fee_schedules_fingerprint,
        last_loaded_at,
        {{ build_time() }} as changed_at
    from fingerprinted
)

select * from final
