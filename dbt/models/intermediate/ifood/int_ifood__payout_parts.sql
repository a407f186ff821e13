{#
    What each order (or order-less ledger entry) contributes to each payout: one row per
    (ledger entry, expected payment date) with the sum of its transfer-impact events and the
    report's id_saldo for it. An order refunded after payment has two rows: its sale in its
    own payout, the reversal in the later one. int_ifood__payout_batches_aggregated sums
    these rows per merchant and date.

    Incremental: the parts of a ledger entry with an event or report line loaded since the
    last build are recomputed from all of its events; `unique_key` is the entry, so a
    rebuild first deletes every part it had (also those on a date it no longer has).
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'ledger_key'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'ledger_key']},
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
touched_entries as (
    select
        financial_events.tenant_id,
        coalesce(
            financial_events.order_id, 'event:' || financial_events.financial_event_id
        ) as ledger_key
    from financial_events
    where financial_events.loaded_at >= {{ loaded_since }}
    union
    select reconciliation_lines.tenant_id, reconciliation_lines.order_id
    from reconciliation_lines
    where reconciliation_lines.loaded_at >= {{ loaded_since }}
        and reconciliation_lines.order_id is not null
),

entry_events as (
    {#- Order entries through the (tenant_id, order_id) index, the rare others by key. #}
    select financial_events.*
    from financial_events
    inner join touched_entries
        on financial_events.tenant_id = touched_entries.tenant_id
        and financial_events.order_id = touched_entries.ledger_key
    union all
    select financial_events.*
    from financial_events
    inner join touched_entries
        on financial_events.tenant_id = touched_entries.tenant_id
        {#- substr, not 'event:' || id: the join then uses the event key's unique index. #}
        and financial_events.financial_event_id = substr(touched_entries.ledger_key, 7)
    where touched_entries.ledger_key like 'event:%'
        and financial_events.order_id is null
),

lines_in_scope as (
    select reconciliation_lines.*
    from reconciliation_lines
    inner join touched_entries
        on reconciliation_lines.tenant_id = touched_entries.tenant_id
        and reconciliation_lines.order_id = touched_entries.ledger_key
),
{%- else -%}
entry_events as (
    select * from financial_events
),

lines_in_scope as (
    select * from reconciliation_lines
),
{%- endif %}

{#- Events that move no money (no transfer impact, or no date) still leave a part with a
    null date and no amount, so that an entry whose last payable event stops being payable
    replaces its old parts (delete+insert only deletes keys it inserts). #}
ledger_entries as (
    select
        tenant_id,
        merchant_id,
        order_id,
        coalesce(order_id, 'event:' || financial_event_id) as ledger_key,
        case
            when has_transfer_impact then expected_payment_date
        end as expected_payment_date,
        case when has_transfer_impact then amount else 0 end as amount,
        loaded_at
    from entry_events
),

parts_summed as (
    select
        tenant_id,
        ledger_key,
        min(merchant_id) as merchant_id,
        min(order_id) as order_id,
        expected_payment_date,
        count(*) as financial_event_count,
        cast(sum(amount) as numeric(18, 2)) as amount,
        max(loaded_at) as last_loaded_at
    from ledger_entries
    group by tenant_id, ledger_key, expected_payment_date
),

report_keys as (
    select
        tenant_id,
        order_id,
        expected_payment_date,
        min(settlement_item_id) as settlement_item_id,
        max(loaded_at) as last_loaded_at
    from lines_in_scope
    where settlement_item_id is not null
        and order_id is not null
    group by tenant_id, order_id, expected_payment_date
),

parts_keyed as (
    select
        parts_summed.tenant_id,
        parts_summed.ledger_key,
        parts_summed.merchant_id,
        parts_summed.order_id,
        parts_summed.expected_payment_date,
        report_keys.settlement_item_id,
        parts_summed.financial_event_count,
        parts_summed.amount,
        greatest(parts_summed.last_loaded_at, report_keys.last_loaded_at)
            as last_loaded_at
    from parts_summed
    left join report_keys
        on parts_summed.tenant_id = report_keys.tenant_id
        and parts_summed.ledger_key = report_keys.order_id
        and parts_summed.expected_payment_date = report_keys.expected_payment_date
)

select * from parts_keyed
