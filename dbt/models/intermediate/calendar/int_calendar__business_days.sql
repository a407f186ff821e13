{#
    Every calendar day of the years the holiday seed covers, with whether settlement runs on
    it and a running count of business days, so that "n business days after d" and "business
    days between a and b" become equality joins on business_day_index instead of loops
    (docs/reconciliation-rules.md):

      add_business_days(d, n)     = the business day whose index is index(d) + n (n >= 1)
      business_days_between(a, b) = index(b) - index(a)

    index(d) counts the business days up to and including d, so a weekend or holiday shares
    the index of the business day before it.

    The span is the seed's (regenerate it with `conciliador calendar refresh`); a run whose
    as-of date needs years beyond it stops here with a sentence naming them
    (macros/calendar_coverage.sql).
#}
-- depends_on: {{ source('control', 'tolerances') }}
{{ assert_calendar_covers_run() }}

with

holidays as (
    select * from {{ ref('br_financial_holidays') }}
),

span as (
    select
        cast(date_trunc('year', min(holiday_date)) as date) as first_day,
        cast(
            date_trunc('year', max(holiday_date)) + interval '1 year' - interval '1 day'
            as date
        ) as last_day
    from holidays
),

days as (
    select cast(day as date) as date_day
    from span
    cross join generate_series(span.first_day, span.last_day, interval '1 day') as day
),

flagged as (
    select
        days.date_day,
        extract(isodow from days.date_day) < 6
            and holidays.holiday_date is null as is_business_day,
        holidays.holiday_name
    from days
    left join holidays
        on days.date_day = holidays.holiday_date
),

indexed as (
    select
        date_day,
        is_business_day,
        holiday_name,
        cast(
            count(*) filter (where is_business_day) over (order by date_day)
            as integer
        ) as business_day_index
    from flagged
)

select * from indexed
