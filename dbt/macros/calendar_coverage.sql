{#
    The business-day calendar (int_calendar__business_days) spans the years of the holiday
    seed br_financial_holidays. A date outside it has no business-day index, so a deadline
    counted from it comes out null and a status built on it silently wrong. Two guards say so in
    one sentence naming the missing years instead:

    - assert_calendar_covers_run(), called when the calendar is built: the run's as-of date
      plus var('calendar_lookahead_days') (how far ahead iFood schedules expected payment
      dates) plus the largest business-day count any tenant adds (grace_days,
      missing_from_conciliation_days: vars and control.tolerances), at two calendar days per
      business day plus a week, must fall in the seed's years, and so must the as-of date;
    - calendar_coverage_test(), the body of the singular tests
      assert_business_day_calendar_covers_payout_dates and ..._sale_dates, for stored dates
      beyond that horizon (an expected date years ahead, a sale before the seed's first year).
#}

{#- The fix, in the words of both guards. -#}
{% macro calendar_refresh_advice() -%}
    extend it with `conciliador calendar refresh --first-year/--last-year` to cover those years and rebuild
{%- endmacro %}

{#- "2041" or "2041–2043" from a list of years. -#}
{% macro year_span(years) -%}
    {%- if years | length == 1 -%}{{ years[0] }}{%- else -%}{{ years | min }}–{{ years | max }}{%- endif -%}
{%- endmacro %}

{% macro assert_calendar_covers_run() %}
    {%- if execute -%}
        {%- set query -%}
            with
            seed as (
                select
                    cast(extract(year from min(holiday_date)) as integer) as first_year,
                    cast(extract(year from max(holiday_date)) as integer) as last_year
                from {{ ref('br_financial_holidays') }}
            ),
            terms as (
                select greatest(
                    {{ var('grace_days') }},
                    {{ var('missing_from_conciliation_days') }},
                    coalesce(max(grace_days), 0),
                    coalesce(max(missing_from_conciliation_days), 0)
                ) as business_days
                from {{ source('control', 'tolerances') }}
            ),
            needed as (
                select
                    {{ as_of_date() }} as as_of,
                    {{ as_of_date() }} + {{ var('calendar_lookahead_days') }}
                        + 2 * terms.business_days + 7 as last_day,
                    terms.business_days
                from terms
            )
            select
                seed.first_year,
                seed.last_year,
                cast(needed.as_of as text),
                cast(extract(year from needed.as_of) as integer),
                cast(extract(year from needed.last_day) as integer),
                needed.business_days
            from seed
            cross join needed
        {%- endset -%}
        {%- set row = run_query(query).rows[0] -%}
        {%- set first_year, last_year, as_of, as_of_year, needed_year, business_days = row -%}
        {%- if first_year is not none -%}
            {%- set missing = [] -%}
            {%- for year in range(as_of_year, first_year) -%}{%- do missing.append(year) -%}{%- endfor -%}
            {%- for year in range(last_year + 1, needed_year + 1) -%}{%- do missing.append(year) -%}{%- endfor -%}
            {%- if missing -%}
                {{ exceptions.raise_compiler_error(
                    "the business-day calendar covers " ~ first_year ~ "–" ~ last_year
                    ~ " but this run needs " ~ year_span(missing)
                    ~ " (as-of " ~ as_of ~ ", expected payment dates up to "
                    ~ var('calendar_lookahead_days') ~ " days ahead and deadlines up to "
                    ~ business_days ~ " business days after them); "
                    ~ calendar_refresh_advice()
                ) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{#
    The body of a calendar-coverage singular test. `uncovered_sql` is a `with` clause (no final
    select) defining `calendar_years` (first_year, last_year) and `uncovered` (subject,
    counted_from date, business_days counted after it). When `uncovered` has rows the test
    stops the build with one sentence naming the years those dates need and the calendar lacks;
    otherwise it selects nothing.
#}
{% macro calendar_coverage_test(uncovered_sql, what) %}
    {%- if execute -%}
        {%- set summary -%}
            {{ uncovered_sql }},
            years_needed as (
                select distinct year
                from uncovered
                cross join generate_series(
                    cast(extract(year from uncovered.counted_from) as integer),
                    cast(extract(year from uncovered.counted_from
                        + 2 * coalesce(uncovered.business_days, 0) + 7) as integer)
                ) as year
                cross join calendar_years
                where year not between calendar_years.first_year and calendar_years.last_year
            )
            select
                (select count(*) from uncovered),
                (select min(subject) from uncovered),
                (select first_year from calendar_years),
                (select last_year from calendar_years),
                (select string_agg(cast(year as text), ', ' order by year) from years_needed)
        {%- endset -%}
        {%- set count, example, first_year, last_year, years = run_query(summary).rows[0] -%}
        {%- if count > 0 -%}
            {{ exceptions.raise_compiler_error(
                "the business-day calendar covers " ~ first_year ~ "–" ~ last_year ~ " but "
                ~ count ~ " " ~ what ~ " need " ~ (years or "dates outside it")
                ~ " (e.g. " ~ example ~ "); " ~ calendar_refresh_advice()
            ) }}
        {%- endif -%}
    {%- endif %}
    {{ uncovered_sql }}
    select * from uncovered
{% endmacro %}
