{#
    One row per iFood order (sold, or referenced by financial events) with its
    reconciliation status and, unless reconciled, the reason. Precedence: see the
    `ifood_order_status_precedence` doc block in _marts__docs.md.
#}

with

sales as (
    select * from {{ ref('stg_ifood__sales') }}
),

orders_netted as (
    select * from {{ ref('int_ifood__orders_netted') }}
),

payout_batches as (
    select * from {{ ref('int_ifood__payout_batches_matched') }}
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
        sales.sale_date,
        orders_netted.expected_payment_date,
        orders_netted.financial_events
    from sales
    full outer join orders_netted
        on sales.tenant_id = orders_netted.tenant_id
        and sales.order_id = orders_netted.order_id
),

payouts_joined as (
    select
        orders_unioned.*,
        payout_batches.bank_transaction_id,
        payout_batches.expected_amount as batch_expected_amount,
        payout_batches.credit_amount as batch_credit_amount,
        payout_batches.order_count as batch_order_count,
        payout_batches.match_rule,
        abs(payout_batches.difference_amount)
            <= {{ tenant_tolerance('value_tolerance') }}
            as is_batch_within_tolerance,
        payout_batches.paid_date,
        cast({{ tenant_tolerance('value_tolerance') }} as numeric(18, 2))
            as value_tolerance,
        {{ tenant_tolerance('grace_days') }} as grace_days,
        {{ as_of_date() }} as as_of_date
    from orders_unioned
    left join payout_batches
        on orders_unioned.payout_batch_id = payout_batches.payout_batch_id
    left join tolerances
        on orders_unioned.tenant_id = tolerances.tenant_id
),

reasons_assigned as (
    select
        *,
        case
            when has_cancellation_event then 'cancellation_event'
            when not has_financial_events then 'no_financial_events'
            when not has_sale then 'orphan_financial_event'
            when bank_transaction_id is not null
                and paid_date - expected_payment_date <= grace_days
                and is_batch_within_tolerance
                then null
            when bank_transaction_id is not null
                and paid_date - expected_payment_date <= grace_days
                then 'value_mismatch'
            when bank_transaction_id is not null then 'late_payment'
            when as_of_date - expected_payment_date > grace_days
                then 'payment_missing'
            else 'awaiting_payment'
        end as divergence_reason
    from payouts_joined
),

statuses_assigned as (
    select
        tenant_id,
        merchant_id,
        order_id,
        payout_batch_id,
        bank_transaction_id,
        case
            when divergence_reason is null then 'reconciled'
            when divergence_reason = 'cancellation_event' then 'cancelled'
            when divergence_reason = 'no_financial_events' then 'sales_only'
            when divergence_reason = 'awaiting_payment'
                then 'awaiting_settlement'
            else 'divergent'
        end as status,
        divergence_reason,
        gross_amount,
        expected_net_amount,
        {#- The order's share of its batch's credit. #}
        cast(
            case
                when bank_transaction_id is null then null
                when is_batch_within_tolerance then expected_net_amount
                else round(
                    expected_net_amount * batch_credit_amount
                    / nullif(batch_expected_amount, 0),
                    2
                )
            end
            as numeric(18, 2)
        ) as paid_amount,
        value_tolerance,
        grace_days,
        sale_date,
        expected_payment_date,
        paid_date,
        as_of_date,
        {#- What decided the status, for BI and auditors (queryable with ->, ->>). #}
        jsonb_build_object(
            'rule', coalesce(divergence_reason, 'reconciled'),
            'has_sale', has_sale,
            'gross_amount', gross_amount,
            'expected_net_amount', expected_net_amount,
            'financial_events', coalesce(financial_events, '[]'::jsonb),
            'payout_batch', case when payout_batch_id is not null then jsonb_build_object(
                'id', payout_batch_id,
                'order_count', batch_order_count,
                'expected_amount', batch_expected_amount,
                'expected_payment_date', expected_payment_date
            ) end,
            'bank_credit', case when bank_transaction_id is not null then jsonb_build_object(
                'transaction_id', bank_transaction_id,
                'amount', batch_credit_amount,
                'posted_date', paid_date,
                'match_rule', match_rule
            ) end,
            'value_tolerance', value_tolerance,
            'grace_days', grace_days,
            'as_of_date', as_of_date
        ) as evidence
    from reasons_assigned
),

final as (
    select
        tenant_id,
        merchant_id,
        order_id,
        payout_batch_id,
        bank_transaction_id,
        status,
        divergence_reason,
        gross_amount,
        expected_net_amount,
        paid_amount,
        cast(paid_amount - expected_net_amount as numeric(18, 2))
            as difference_amount,
        case
            when paid_date is not null then paid_date - expected_payment_date
            when payout_batch_id is not null
                and as_of_date > expected_payment_date
                then as_of_date - expected_payment_date
        end as days_late,
        value_tolerance,
        grace_days,
        sale_date,
        expected_payment_date,
        paid_date,
        as_of_date,
        evidence
    from statuses_assigned
)

select * from final
