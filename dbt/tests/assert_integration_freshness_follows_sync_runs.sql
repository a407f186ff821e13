{#
    marts.fct_integration_freshness has exactly one row per active integration, and an
    integration is stale exactly when the successful syncs do not cover every instant from
    the first one's start to the as-of date (midnight America/Sao_Paulo): no success reaches
    the as-of date, or some success ends before it without another success covering that
    end. Recomputed here from the sources with EXISTS, not with the mart's islands. Fails on
    a lost or duplicated integration, an inactive one reported, a failed or still running
    sync counted as coverage, an interval read by its start, or a hole taken for coverage.
#}
with

integrations as (
    select integration_id, is_active from {{ source('control', 'integrations') }}
),

sync_runs as (
    select * from {{ source('ops', 'sync_runs') }}
),

freshness as (
    select * from {{ ref('fct_integration_freshness') }}
),

rows_per_integration as (
    select integration_id, count(*) as row_count, bool_or(is_stale) as is_stale, max(as_of_date) as as_of_date
    from freshness
    group by integration_id
),

checked as (
    select
        coalesce(integrations.integration_id, rows_per_integration.integration_id)
            as integration_id,
        coalesce(integrations.is_active, false) as is_active,
        coalesce(rows_per_integration.row_count, 0) as row_count,
        rows_per_integration.is_stale,
        not exists (
            select 1
            from sync_runs
            where sync_runs.integration_id = rows_per_integration.integration_id
                and sync_runs.status = 'success'
                and sync_runs.interval_end
                    >= cast(rows_per_integration.as_of_date as timestamp)
                        at time zone 'America/Sao_Paulo'
        )
        or exists (
            select 1
            from sync_runs as ended
            where ended.integration_id = rows_per_integration.integration_id
                and ended.status = 'success'
                and ended.interval_end
                    < cast(rows_per_integration.as_of_date as timestamp) at time zone 'America/Sao_Paulo'
                and not exists (
                    select 1
                    from sync_runs as next_run
                    where next_run.integration_id = ended.integration_id
                        and next_run.status = 'success'
                        and next_run.interval_start <= ended.interval_end
                        and next_run.interval_end > ended.interval_end
                )
        ) as should_be_stale
    from integrations
    full outer join rows_per_integration
        on integrations.integration_id = rows_per_integration.integration_id
),

problems as (
    select *
    from checked
    where row_count <> (case when is_active then 1 else 0 end)
        or (row_count = 1 and is_stale is distinct from should_be_stale)
)

select * from problems
