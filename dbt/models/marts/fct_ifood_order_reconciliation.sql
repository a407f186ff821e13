{#
    One row per iFood order (sold, or booked by financial events / report lines) with its
    reconciliation status and, unless reconciled, the reason. The rules and their
    precedence are docs/reconciliation-rules.md (doc block ifood_order_status_precedence);
    rules 6-12 are decided per payout batch in int_ifood__payout_batches_reconciled.
#}

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
        orders_netted.financial_events
    from sales
    full outer join orders_netted
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
        payout_batches.payout_items
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
        ) as evidence
    from amounts_attributed
)

select * from final
