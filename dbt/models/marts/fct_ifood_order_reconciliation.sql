{#
    One row per iFood order (sold, or booked by financial events / report lines) with its
    reconciliation status and, unless reconciled, the reason. The rules and their
    precedence are docs/reconciliation-rules.md (doc block ifood_order_status_precedence);
    rules 6-12 are decided per payout batch in int_ifood__payout_batches_reconciled.

    Incremental (the daily run): only the orders whose status could have changed are
    re-evaluated, and the result equals a full refresh (tests/test_incremental_reconciliation.py):
    - orders with a sale, event or report line loaded since the last build;
    - every order of a payout batch whose verdict changed (verdict_fingerprint: new credits
      or items, a new total, days late growing while unpaid, ...);
    - sales not booked yet (their conciliation deadline moves with the as-of date);
    - every order of a tenant whose tolerances changed.
    Rows left alone keep the as_of_date of the run that last evaluated them: their status
    holds for the new as-of date too, which is what the rules above guarantee.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'order_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'order_id'], 'unique': true},
            {'columns': ['tenant_id', 'status']},
            {'columns': ['divergence_reason']},
            {'columns': ['as_of_date']},
            {'columns': ['payout_batch_id', 'batch_fingerprint']},
            {'columns': ['last_loaded_at']},
        ],
    )
}}

with

sales as (
    select * from {{ ref('stg_ifood__sales') }}
),

orders_netted as (
    select * from {{ ref('int_ifood__orders_netted') }}
),

payout_batches as (
    select * from {{ ref('int_ifood__payout_batches_reconciled') }}
),

calendar as (
    select * from {{ ref('int_calendar__business_days') }}
),

tolerances as (
    select * from {{ ref('stg_control__tolerances') }}
),

{% if is_incremental() -%}
{%- set loaded_since = reload_since('last_loaded_at') %}
changed_batches as (
    select payout_batches.payout_batch_id
    from payout_batches
    where not exists (
        select 1
        from {{ this }} as evaluated
        where evaluated.payout_batch_id = payout_batches.payout_batch_id
            and evaluated.batch_fingerprint = payout_batches.verdict_fingerprint
    )
),

tenants_known as (
    select tenant_id from payout_batches
    union
    select tenant_id from tolerances
),

tenants_with_new_terms as (
    select tenants_known.tenant_id
    from tenants_known
    left join tolerances
        on tenants_known.tenant_id = tolerances.tenant_id
    cross join lateral (
        select
            evaluated.value_tolerance,
            evaluated.grace_days,
            evaluated.missing_from_conciliation_days
        from {{ this }} as evaluated
        where evaluated.tenant_id = tenants_known.tenant_id
        limit 1
    ) as applied
    where (
        applied.value_tolerance,
        applied.grace_days,
        applied.missing_from_conciliation_days
    ) is distinct from (
        cast({{ tenant_tolerance('value_tolerance') }} as numeric(18, 2)),
        {{ tenant_tolerance('grace_days') }},
        {{ tenant_tolerance('missing_from_conciliation_days') }}
    )
),

orders_to_evaluate as (
    select tenant_id, order_id
    from orders_netted
    where orders_netted.last_loaded_at >= {{ loaded_since }}
    union
    select tenant_id, order_id
    from sales
    where sales.loaded_at >= {{ loaded_since }}
    union
    select orders_netted.tenant_id, orders_netted.order_id
    from orders_netted
    inner join changed_batches
        on orders_netted.payout_batch_id = changed_batches.payout_batch_id
    union
    select tenant_id, order_id
    from {{ this }}
    where divergence_reason = 'no_financial_events'
    union
    select evaluated.tenant_id, evaluated.order_id
    from {{ this }} as evaluated
    inner join tenants_with_new_terms
        on evaluated.tenant_id = tenants_with_new_terms.tenant_id
),

sales_to_evaluate as (
    select sales.*
    from sales
    inner join orders_to_evaluate
        on sales.tenant_id = orders_to_evaluate.tenant_id
        and sales.order_id = orders_to_evaluate.order_id
),

orders_netted_to_evaluate as (
    select orders_netted.*
    from orders_netted
    inner join orders_to_evaluate
        on orders_netted.tenant_id = orders_to_evaluate.tenant_id
        and orders_netted.order_id = orders_to_evaluate.order_id
),

{% set sales_rel = 'sales_to_evaluate' -%}
{% set orders_netted_rel = 'orders_netted_to_evaluate' -%}
{% else -%}
{% set sales_rel = 'sales' -%}
{% set orders_netted_rel = 'orders_netted' -%}
{% endif -%}

orders_unioned as (
    select
        coalesce(sales.tenant_id, orders_netted.tenant_id) as tenant_id,
        coalesce(sales.merchant_id, orders_netted.merchant_id) as merchant_id,
        coalesce(sales.order_id, orders_netted.order_id) as order_id,
        orders_netted.payout_batch_id,
        sales.gross_amount,
        orders_netted.expected_net_amount,
        sales.order_id is not null as has_sale,
        orders_netted.order_id is not null as has_financial_events,
        coalesce(orders_netted.has_cancellation_event, false)
            as has_cancellation_event,
        coalesce(orders_netted.is_refund_after_payment, false)
            as is_refund_after_payment,
        sales.sale_date,
        orders_netted.expected_payment_date,
        orders_netted.financial_events,
        greatest(sales.loaded_at, orders_netted.last_loaded_at) as last_loaded_at
    from {{ sales_rel }} as sales
    full outer join {{ orders_netted_rel }} as orders_netted
        on sales.tenant_id = orders_netted.tenant_id
        and sales.order_id = orders_netted.order_id
),

terms_joined as (
    select
        orders_unioned.*,
        cast({{ tenant_tolerance('value_tolerance') }} as numeric(18, 2))
            as value_tolerance,
        {{ tenant_tolerance('grace_days') }} as grace_days,
        {{ tenant_tolerance('missing_from_conciliation_days') }}
            as missing_from_conciliation_days,
        {{ as_of_date() }} as as_of_date
    from orders_unioned
    left join tolerances
        on orders_unioned.tenant_id = tolerances.tenant_id
),

{#- Only sales without events need the conciliation deadline. #}
conciliation_deadlines as (
    select
        terms_joined.tenant_id,
        terms_joined.order_id,
        case
            when terms_joined.missing_from_conciliation_days = 0
                then terms_joined.sale_date
            else deadline_day.date_day
        end as conciliation_deadline_date
    from terms_joined
    inner join calendar as sale_day
        on terms_joined.sale_date = sale_day.date_day
    left join calendar as deadline_day
        on deadline_day.is_business_day
        and deadline_day.business_day_index
            = sale_day.business_day_index
            + terms_joined.missing_from_conciliation_days
    where not terms_joined.has_financial_events
),

batches_joined as (
    select
        terms_joined.*,
        conciliation_deadlines.conciliation_deadline_date,
        payout_batches.batch_status,
        payout_batches.batch_reason,
        payout_batches.expected_amount as batch_expected_amount,
        payout_batches.paid_amount as batch_paid_amount,
        payout_batches.order_count as batch_order_count,
        payout_batches.settlement_item_id,
        payout_batches.deadline_date,
        payout_batches.is_anticipated,
        payout_batches.anticipation_fee_amount,
        payout_batches.paid_date,
        payout_batches.days_late,
        payout_batches.bank_credits,
        payout_batches.payout_items,
        payout_batches.verdict_fingerprint as batch_fingerprint
    from terms_joined
    left join conciliation_deadlines
        on terms_joined.tenant_id = conciliation_deadlines.tenant_id
        and terms_joined.order_id = conciliation_deadlines.order_id
    left join payout_batches
        on terms_joined.payout_batch_id = payout_batches.payout_batch_id
),

{#- Rules 1-5 per order, then the batch's verdict (rules 6-12). #}
reasons_assigned as (
    select
        *,
        case
            when is_refund_after_payment then 'refund_after_payment'
            when has_cancellation_event then 'cancellation_event'
            when not has_financial_events
                and conciliation_deadline_date < as_of_date
                then 'missing_from_conciliation'
            when not has_financial_events then 'no_financial_events'
            when not has_sale then 'orphan_financial_event'
            when batch_status is null then 'awaiting_payment'
            else batch_reason
        end as divergence_reason
    from batches_joined
),

statuses_assigned as (
    select
        *,
        case
            when divergence_reason is null then 'reconciled'
            when divergence_reason in ('refund_after_payment', 'cancellation_event')
                then 'cancelled'
            when divergence_reason in ('missing_from_conciliation', 'no_financial_events')
                then 'sales_only'
            when divergence_reason in ('partially_paid', 'awaiting_payment')
                then 'awaiting_settlement'
            else 'divergent'
        end as status
    from reasons_assigned
),

amounts_attributed as (
    select
        *,
        {#- The order's share of what its batch was paid. #}
        cast(
            case
                when status in ('cancelled', 'sales_only') then null
                when batch_paid_amount is null then null
                when status = 'reconciled' then expected_net_amount
                else round(
                    expected_net_amount * batch_paid_amount
                    / nullif(batch_expected_amount, 0),
                    2
                )
            end
            as numeric(18, 2)
        ) as paid_amount
    from statuses_assigned
),

final as (
    select
        tenant_id,
        merchant_id,
        order_id,
        payout_batch_id,
        status,
        divergence_reason,
        gross_amount,
        expected_net_amount,
        paid_amount,
        cast(paid_amount - expected_net_amount as numeric(18, 2))
            as difference_amount,
        sale_date,
        expected_payment_date,
        case when paid_amount is not null then paid_date end as paid_date,
        case when status not in ('cancelled', 'sales_only') then days_late end
            as days_late,
        value_tolerance,
        grace_days,
        missing_from_conciliation_days,
        as_of_date,
        {#- What decided the status, for BI and auditors (queryable with ->, ->>). #}
        jsonb_build_object(
            'rule', coalesce(divergence_reason, 'reconciled'),
            'has_sale', has_sale,
            'gross_amount', gross_amount,
            'expected_net_amount', expected_net_amount,
            'financial_events', coalesce(financial_events, '[]'::jsonb),
            'conciliation_deadline_date', conciliation_deadline_date,
            'payout_batch', case when payout_batch_id is not null then jsonb_build_object(
                'id', payout_batch_id,
                'settlement_item_id', settlement_item_id,
                'order_count', batch_order_count,
                'expected_amount', batch_expected_amount,
                'expected_payment_date', expected_payment_date,
                'deadline_date', deadline_date,
                'paid_amount', batch_paid_amount,
                'is_anticipated', is_anticipated,
                'anticipation_fee_amount', anticipation_fee_amount,
                'verdict', batch_reason
            ) end,
            'payout_items', coalesce(payout_items, '[]'::jsonb),
            'bank_credits', coalesce(bank_credits, '[]'::jsonb),
            'value_tolerance', value_tolerance,
            'grace_days', grace_days,
            'missing_from_conciliation_days', missing_from_conciliation_days,
            'as_of_date', as_of_date
        ) as evidence,
        batch_fingerprint,
        last_loaded_at
    from amounts_attributed
)

select * from final
