{#
    Every sale without financial events has a conciliation deadline (its sale date plus the
    tenant's missing_from_conciliation_days business days). Outside the business-day calendar
    the deadline is null and the sale stays `no_financial_events` forever instead of turning
    `missing_from_conciliation`; this stops the build with a sentence naming the missing years.
    Reads the rows the latest build evaluated.
#}
{%- set uncovered_sql -%}
with

calendar as (
    select * from {{ ref('int_calendar__business_days') }}
),

reconciliation as (
    select * from {{ ref('fct_ifood_order_reconciliation') }}
),

calendar_years as (
    select
        cast(extract(year from min(date_day)) as integer) as first_year,
        cast(extract(year from max(date_day)) as integer) as last_year
    from calendar
),

uncovered as (
    select
        'sale ' || tenant_id || '|' || order_id as subject,
        sale_date as counted_from,
        missing_from_conciliation_days as business_days
    from reconciliation
    where as_of_date = (select max(as_of_date) from reconciliation)
        and status = 'sales_only'
        and evidence ->> 'conciliation_deadline_date' is null
)
{%- endset -%}

{{ calendar_coverage_test(uncovered_sql, 'sale(s) without financial events') }}
