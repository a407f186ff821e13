{#
    Extraction runs, one row each. A failure is `failed` (the error recorded) or `abandoned`
    (a run that never finished); only a `success` means its interval's raw rows are in.
#}
with

source as (
    select * from {{ source('ops', 'sync_runs') }}
),

renamed as (
    select
        sync_run_id,
        integration_id,
        tenant_id,
        provider,
        interval_start,
        interval_end,
        started_at,
        finished_at,
        status,
        status = 'success' as is_success,
        status in ('failed', 'abandoned') as is_failure,
        rows_fetched,
        rows_written,
        nullif(trim(split_part(error, E'\n', 1)), '') as error_first_line,
        run_label
    from source
)

select * from renamed
