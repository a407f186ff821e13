{#
    One row per order that iFood booked: referenced by financial events (reference type
    ORDER) or, failing those, by lines of the reconciliation report. What iFood says it will
    pay for it (docs/reconciliation-rules.md, "Facts"):

    - expected net: the sum of its events with transfer impact (report lines when the order
      has no events);
    - expected payment date: that of its non-cancellation events, which places the order in
      its payout batch (merchant, expected date);
    - a cancellation is a refund after payment when the reversal was booked into a later
      payout than the one that paid the order.

    Incremental: a daily build renets only the orders with an event or report line loaded
    since the newest one already netted (minus var('staging_reload_hours')), reading all of
    each such order's entries; an order's net depends on nothing else.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'order_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'order_id'], 'unique': true},
            {'columns': ['payout_batch_id']},
            {'columns': ['last_loaded_at']},
        ],
    )
}}

with

financial_events as (
    select * from {{ ref('stg_ifood__financial_events') }}
),

reconciliation_lines as (
    select * from {{ ref('stg_ifood__reconciliation_lines') }}
),

{% if is_incremental() -%}
{%- set loaded_since = reload_since('last_loaded_at') %}
touched_orders as (
    select financial_events.tenant_id, financial_events.order_id
    from financial_events
    where financial_events.loaded_at >= {{ loaded_since }}
        and financial_events.order_id is not null
    union
    select reconciliation_lines.tenant_id, reconciliation_lines.order_id
    from reconciliation_lines
    where reconciliation_lines.loaded_at >= {{ loaded_since }}
        and reconciliation_lines.order_id is not null
),

{% endif -%}
order_events as (
    select
        financial_events.tenant_id,
        financial_events.merchant_id,
        financial_events.order_id,
        financial_events.financial_event_id as entry_id,
        financial_events.event_name as entry_name,
        financial_events.event_description as entry_description,
        financial_events.amount,
        financial_events.has_transfer_impact,
        financial_events.is_cancellation,
        financial_events.expected_payment_date,
        financial_events.event_at,
        financial_events.loaded_at,
        'financial_event' as entry_source
    from financial_events
    {%- if is_incremental() %}
    inner join touched_orders
        on financial_events.tenant_id = touched_orders.tenant_id
        and financial_events.order_id = touched_orders.order_id
    {%- endif %}
    where financial_events.order_id is not null
),

orders_with_events as (
    select distinct tenant_id, order_id
    from order_events
),

{#- Report lines stand in only for orders the events API never returned. #}
report_only_lines as (
    select
        reconciliation_lines.tenant_id,
        reconciliation_lines.merchant_id,
        reconciliation_lines.order_id,
        reconciliation_lines.reconciliation_line_id as entry_id,
        reconciliation_lines.entry_type as entry_name,
        reconciliation_lines.entry_description,
        reconciliation_lines.amount,
        coalesce(reconciliation_lines.has_transfer_impact, true)
            as has_transfer_impact,
        {{ is_cancellation(
            "reconciliation_lines.event_type || ' ' || coalesce(reconciliation_lines.entry_type, '')",
            'reconciliation_lines.entry_description',
        ) }} as is_cancellation,
        reconciliation_lines.expected_payment_date,
        cast(reconciliation_lines.event_date as timestamptz) as event_at,
        reconciliation_lines.loaded_at,
        'reconciliation_report' as entry_source
    from reconciliation_lines
    {%- if is_incremental() %}
    inner join touched_orders
        on reconciliation_lines.tenant_id = touched_orders.tenant_id
        and reconciliation_lines.order_id = touched_orders.order_id
    {%- endif %}
    left join orders_with_events
        on reconciliation_lines.tenant_id = orders_with_events.tenant_id
        and reconciliation_lines.order_id = orders_with_events.order_id
    where reconciliation_lines.order_id is not null
        and orders_with_events.order_id is null
),

entries as (
    select * from order_events
    union all
    select * from report_only_lines
),

entries_summed as (
    select
        tenant_id,
        order_id,
        min(merchant_id) as merchant_id,
        count(*) as financial_event_count,
        bool_or(entry_source = 'financial_event') as has_financial_events,
        bool_or(entry_source = 'reconciliation_report') as is_report_only,
        cast(
            coalesce(sum(amount) filter (where has_transfer_impact), 0)
            as numeric(18, 2)
        ) as expected_net_amount,
        bool_or(is_cancellation) as has_cancellation_event,
        coalesce(
            max(expected_payment_date)
                filter (where has_transfer_impact and not is_cancellation),
            max(expected_payment_date) filter (where not is_cancellation)
        ) as expected_payment_date,
        max(expected_payment_date) filter (where is_cancellation)
            as cancellation_payment_date,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        max(loaded_at) as last_loaded_at,
        {#- The ledger lines behind the expected net, for the mart's evidence. #}
        jsonb_agg(
            jsonb_build_object(
                'name', entry_name,
                'description', entry_description,
                'amount', amount,
                'has_transfer_impact', has_transfer_impact,
                'expected_payment_date', expected_payment_date,
                'source', entry_source
            )
            order by event_at, entry_id
        ) as financial_events
    from entries
    group by tenant_id, order_id
),

batches_assigned as (
    select
        tenant_id,
        order_id,
        merchant_id,
        case
            when expected_payment_date is not null
                then concat_ws(
                    '|',
                    tenant_id,
                    merchant_id,
                    to_char(expected_payment_date, 'YYYY-MM-DD')
                )
        end as payout_batch_id,
        financial_event_count,
        has_financial_events,
        is_report_only,
        expected_net_amount,
        has_cancellation_event,
        coalesce(
            has_cancellation_event
            and cancellation_payment_date > expected_payment_date,
            false
        ) as is_refund_after_payment,
        expected_payment_date,
        cancellation_payment_date,
        first_event_at,
        last_event_at,
        last_loaded_at,
        financial_events
    from entries_summed
)

select * from batches_assigned
