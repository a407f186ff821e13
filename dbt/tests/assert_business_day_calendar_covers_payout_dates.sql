{#
    Every payout batch's expected date, and its deadline, is in the business-day calendar
    (int_calendar__business_days spans the years of the holiday seed). Outside it the deadline
    is null and the batch's verdict wrong without a word. The run's own horizon is checked when
    the calendar is built (macros/calendar_coverage.sql); this catches stored dates beyond it,
    e.g. an expected payment date years ahead, and stops the build, before the mart, with a
    sentence naming the missing years.
#}
{%- set uncovered_sql -%}
with

calendar as (
    select * from {{ ref('int_calendar__business_days') }}
),

payout_batches as (
    select * from {{ ref('int_ifood__payout_batches_reconciled') }}
),

calendar_years as (
    select
        cast(extract(year from min(date_day)) as integer) as first_year,
        cast(extract(year from max(date_day)) as integer) as last_year
    from calendar
),

uncovered as (
    select
        'payout batch ' || payout_batches.payout_batch_id as subject,
        payout_batches.expected_payment_date as counted_from,
        payout_batches.grace_days as business_days
    from payout_batches
    left join calendar
        on payout_batches.expected_payment_date = calendar.date_day
    where calendar.date_day is null
        or payout_batches.deadline_date is null
)
{%- endset -%}

{{ calendar_coverage_test(uncovered_sql, 'payout batch(es)') }}
