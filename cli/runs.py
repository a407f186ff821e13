"""`conciliador sync | run | dbt`: manual syncs, one real DAG run, dbt against the warehouse.

Every command turns bad input into one sentence (UserError) rather than a traceback; the
console entry point (`cli/main.py`) prints it and exits 2.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.arguments import parse_date
from ingestion.errors import UserError
from ingestion.warehouse import (
    prepare_warehouse,
)


def sync_command(
    integration_id: Annotated[int, typer.Option("--integration", help="Integration id (see `integrations list`).")],
    start: Annotated[str, typer.Option(help="First business date, e.g. 2026-10-01.")],
    end: Annotated[str, typer.Option(help="Last business date (inclusive).")],
) -> None:
    """Extract one integration over a date range into raw (no dbt)."""
    from ingestion.sync import run_sync
    from plugins.providers.base import Interval

    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    if last < first:
        raise UserError(f"--end {last} is before --start {first}.")
    result = run_sync(prepare_warehouse(), integration_id, Interval.for_dates(first, last), run_label="cli")
    typer.echo(f"sync run {result.sync_run_id}: fetched {result.rows_fetched}, wrote {result.rows_written} new rows")


def run_command(
    day: Annotated[str, typer.Option("--date", help="Business date whose data interval to run, e.g. 2026-10-30.")],
    lookback_days: Annotated[int, typer.Option(min=0, max=366, help="Also re-extract this many earlier days.")] = 2,
    full_refresh: Annotated[
        bool, typer.Option(help="Re-evaluate every order (for a backfill of a day older than the latest run).")
    ] = False,
) -> None:
    """Run the daily DAG once for a day with `airflow dags test` (extract every integration, dbt build)."""
    from ingestion.airflow_runner import dag_test

    prepare_warehouse()
    dag_test(parse_date(day, "--date"), conf={"lookback_days": lookback_days, "full_refresh": full_refresh})
    typer.echo(f"DAG run for {day} succeeded.")


def dbt_command(ctx: typer.Context) -> None:
    """Run dbt against the warehouse, e.g. `conciliador dbt build --select marts`."""
    from ingestion.dbt_runner import run_dbt

    run_dbt(prepare_warehouse(), tuple(ctx.args) or ("build",))
