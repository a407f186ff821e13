"""The steps the daily DAG runs, as plain functions so the CLI and tests can call them too."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from ingestion import integrations
from ingestion.dbt_runner import run_dbt
from ingestion.sync import advice_for, is_permanent, run_sync
from ingestion.warehouse import database_url, prepare_warehouse
from plugins.providers.base import BUSINESS_TZ, Interval


class PermanentSyncFailure(Exception):
    """A sync failed in a way waiting cannot heal (credentials, unlinked account, missing key).

    The DAG turns it into a task failure without retries; its message carries the advice.
    """


def active_integration_ids() -> list[int]:
    url = prepare_warehouse()
    with psycopg.connect(url) as conn:
        return [i.integration_id for i in integrations.list_all(conn, active_only=True)]


def extract(
    integration_id: int, start: datetime, end: datetime, *, lookback_days: int = 0, run_label: str | None = None
) -> dict[str, Any]:
    try:
        result = run_sync(
            database_url(),
            integration_id,
            Interval(start, end),
            lookback=timedelta(days=lookback_days),
            run_label=run_label,
        )
    except Exception as exc:
        if is_permanent(exc):
            advice = advice_for(exc)
            raise PermanentSyncFailure(f"{exc}{'. ' + advice if advice else ''}") from exc
        raise
    return asdict(result)


def failed_syncs(run_label: str, integration_ids: list[int]) -> list[dict[str, Any]]:
    """The integrations a DAG run (by its run id) was to extract whose latest attempt did not succeed.

    A mapped extract task may fail and then succeed on retry: only the last attempt counts. An
    integration with no attempt at all (its task died before reaching the database) is a
    failure too, reported as `not run`.
    """
    with psycopg.connect(database_url()) as conn:
        rows = conn.execute(
            """
            select i.integration_id, i.tenant_id, i.provider, i.name,
                   coalesce(last.status, 'not run'), last.error_kind, last.error, last.advice
            from control.integrations as i
            left join lateral (
                select r.status, r.error_kind, r.error, r.advice
                from ops.sync_runs as r
                where r.integration_id = i.integration_id and r.run_label = %s
                order by r.sync_run_id desc
                limit 1
            ) as last on true
            where i.integration_id = any(%s)
            order by i.integration_id
            """,
            (run_label, list(integration_ids)),
        ).fetchall()
    keys = ("integration_id", "tenant_id", "provider", "name", "status", "error_kind", "error", "advice")
    return [dict(zip(keys, row, strict=True)) for row in rows if row[4] != "success"]


def describe_failures(failures: list[dict[str, Any]]) -> str:
    """One line per failed integration: who, what, and what to do."""
    return "\n".join(
        f"integration {f['integration_id']} ({f['tenant_id']}/{f['provider']}/{f['name']}) {f['status']}: "
        f"{(f['error'] or '').splitlines()[0] if f['error'] else 'no error recorded'}"
        + (f" — {f['advice']}" if f["advice"] else "")
        for f in failures
    )


def as_of_date(interval_end: datetime) -> date:
    """The reconciliation's 'today': the business date on which the data interval ends."""
    return interval_end.astimezone(BUSINESS_TZ).date()


# dbt's unit tests check the models' logic on fixed inputs, not the day's data: CI runs them
# (tests/test_dbt_unit_tests.py), the daily build does not.
DAILY_BUILD = ("build", "--exclude-resource-type", "unit_test")


def transform(as_of: date, *, full_refresh: bool = False) -> None:
    """`dbt build` as of the date: incremental by default, every order re-evaluated with full_refresh."""
    run_dbt(prepare_warehouse(), (*DAILY_BUILD, "--full-refresh") if full_refresh else DAILY_BUILD, as_of=as_of)
