{#
    One row per active integration: how far its data reaches without a hole and whether that
    covers the run's as-of date. A sync covers [interval_start, interval_end); successful syncs,
    ordered by start, form islands of continuous coverage. The end of the first island, read as
    a business date (America/Sao_Paulo), is `data_as_of_date`: everything dated from the first
    successful sync up to it is in the warehouse. A later success after a hole (an outage longer
    than the DAG's look-back) does not fill the hole, so it does not make the integration
    current: `coverage_gaps` counts the holes until a backfill closes them. The integration is stale when that date is
    before the as-of date (or it never synced successfully), whatever its later attempts did;
    the last attempt and the last failure (with the first line of its error) say why.

    The order mart's rows inherit their tenant's freshness from here (see its description):
    carrying it per order would rewrite every order of a tenant on every daily build.
#}
with

integrations as (
    select * from {{ ref('stg_control__integrations') }}
),

sync_runs as (
    select * from {{ ref('stg_ops__sync_runs') }}
),

active_integrations as (
    select *
    from integrations
    where is_active
),

successful_intervals as (
    select
        integration_id,
        interval_start,
        interval_end,
        max(interval_end) over (
            partition by integration_id
            order by interval_start, interval_end
            rows between unbounded preceding and 1 preceding
        ) as covered_before
    from sync_runs
    where is_success
),

islands as (
    select
        *,
        sum(case when covered_before is null or interval_start > covered_before then 1 else 0 end) over (
            partition by integration_id
            order by interval_start, interval_end
            rows between unbounded preceding and current row
        ) as island
    from successful_intervals
),

coverage as (
    select
        integration_id,
        max(interval_end) filter (where island = 1) as covered_until,
        max(island) - 1 as coverage_gaps
    from islands
    group by integration_id
),

successes as (
    select
        integration_id,
        max(interval_end) as last_success_interval_end,
        max(finished_at) as last_success_finished_at,
        count(*) as success_count
    from sync_runs
    where is_success
    group by integration_id
),

last_attempts as (
    select distinct on (integration_id)
        integration_id,
        started_at as last_attempt_started_at,
        finished_at as last_attempt_finished_at,
        status as last_attempt_status,
        interval_end as last_attempt_interval_end
    from sync_runs
    order by integration_id, started_at desc, sync_run_id desc
),

last_failures as (
    select distinct on (integration_id)
        integration_id,
        started_at as last_failure_started_at,
        status as last_failure_status,
        interval_end as last_failure_interval_end,
        error_first_line as last_failure_error
    from sync_runs
    where is_failure
    order by integration_id, started_at desc, sync_run_id desc
),

joined as (
    select
        active_integrations.integration_id,
        active_integrations.tenant_id,
        active_integrations.provider,
        active_integrations.name,
        successes.last_success_interval_end,
        cast(coverage.covered_until at time zone 'America/Sao_Paulo' as date) as data_as_of_date,
        coalesce(coverage.coverage_gaps, 0) as coverage_gaps,
        successes.last_success_finished_at,
        coalesce(successes.success_count, 0) as success_count,
        last_attempts.last_attempt_started_at,
        last_attempts.last_attempt_finished_at,
        last_attempts.last_attempt_status,
        last_attempts.last_attempt_interval_end,
        last_failures.last_failure_started_at,
        last_failures.last_failure_status,
        last_failures.last_failure_interval_end,
        last_failures.last_failure_error,
        {{ as_of_date() }} as as_of_date
    from active_integrations
    left join successes
        on active_integrations.integration_id = successes.integration_id
    left join coverage
        on active_integrations.integration_id = coverage.integration_id
    left join last_attempts
        on active_integrations.integration_id = last_attempts.integration_id
    left join last_failures
        on active_integrations.integration_id = last_failures.integration_id
),

final as (
    select
        *,
        coalesce(data_as_of_date < as_of_date, true) as is_stale,
        {#- greatest() skips nulls: never synced stays null. #}
        case
            when data_as_of_date is not null
                then greatest(as_of_date - data_as_of_date, 0)
        end as days_behind
    from joined
)

select * from final
