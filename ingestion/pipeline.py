"""The steps the daily DAG runs, as plain functions so the CLI and tests can call them too."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from ingestion import integrations
from ingestion.dbt_runner import run_dbt
from ingestion.sync import run_sync
from ingestion.warehouse import database_url, prepare_warehouse
from plugins.providers.base import BUSINESS_TZ, Interval


def active_integration_ids() -> list[int]:
    url = prepare_warehouse()
    with psycopg.connect(url) as conn:
        return [i.integration_id for i in integrations.list_all(conn, active_only=True)]


def extract(
    integration_id: int, start: datetime, end: datetime, *, lookback_days: int = 0, run_label: str | None = None
) -> dict[str, Any]:
    result = run_sync(
        database_url(),
        integration_id,
        Interval(start, end),
        lookback=timedelta(days=lookback_days),
        run_label=run_label,
    )
    return asdict(result)


def as_of_date(interval_end: datetime) -> date:
    """The reconciliation's 'today': the business date on which the data interval ends."""
    return interval_end.astimezone(BUSINESS_TZ).date()


# dbt's unit tests check the models' logic on fixed inputs, not the day's data: CI runs them
# (tests/test_dbt_unit_tests.py), the daily build does not.
DAILY_BUILD = ("build", "--exclude-resource-type", "unit_test")


def transform(as_of: date, *, full_refresh: bool = False) -> None:
    """`dbt build` as of the date: incremental by default, every order re-evaluated with full_refresh."""
    run_dbt(prepare_warehouse(), (*DAILY_BUILD, "--full-refresh") if full_refresh else DAILY_BUILD, as_of=as_of)
