{#
    One row per order that has financial events: what iFood says it will pay for it.
    Only events with reference type ORDER belong to an order; the expected net is the sum
    of the events with transfer impact (the others are informative).
#}
with

financial_events as (
    select * from {{ ref('stg_ifood__financial_events') }}
),

order_events as (
    select *
    from financial_events
    where order_id is not null
),

events_summed as (
    select
        tenant_id,
        order_id,
        min(merchant_id) as merchant_id,
        count(*) as financial_event_count,
        cast(
            coalesce(sum(amount) filter (where has_transfer_impact), 0)
            as numeric(18, 2)
        ) as expected_net_amount,
        bool_or(is_cancellation) as has_cancellation_event,
        {#- An order split over several dates is settled by its last part. #}
        coalesce(
            max(expected_payment_date) filter (where has_transfer_impact),
            max(expected_payment_date)
        ) as expected_payment_date,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        {#- The ledger lines behind the expected net, for the mart's evidence. #}
        jsonb_agg(
            jsonb_build_object(
                'name', event_name,
                'description', event_description,
                'amount', amount,
                'has_transfer_impact', has_transfer_impact,
                'expected_payment_date', expected_payment_date
            )
            order by event_at, financial_event_id
        ) as financial_events
    from order_events
    group by tenant_id, order_id
),

batches_assigned as (
    select
        tenant_id,
        order_id,
        merchant_id,
        {#- Cancelled orders are in no payout; undated ones cannot be placed in one. #}
        case
            when not has_cancellation_event
                and expected_payment_date is not null
                then concat_ws(
                    '|',
                    tenant_id,
                    merchant_id,
                    to_char(expected_payment_date, 'YYYY-MM-DD')
                )
        end as payout_batch_id,
        financial_event_count,
        expected_net_amount,
        has_cancellation_event,
        expected_payment_date,
        first_event_at,
        last_event_at,
        financial_events
    from events_summed
)

select * from batches_assigned
