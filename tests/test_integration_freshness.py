"""marts.fct_integration_freshness: which integrations are stale, as of their last successful sync.

Integrations and sync runs are written as the pipeline writes them (control.integrations,
ops.sync_runs); the real dbt build computes the mart. A sync covers [interval_start,
interval_end); an integration is fresh when a successful sync's interval reaches the as-of date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import psycopg
import pytest
from dbt_outcomes import dbt_outcomes

from ingestion.dbt_runner import run_dbt
from plugins.providers.base import BUSINESS_TZ

AS_OF = date(2026, 10, 31)
BUILD = ("build", "--select", "+fct_integration_freshness", "assert_integration_freshness_follows_sync_runs")
TESTS = (
    "assert_integration_freshness_follows_sync_runs",
    "sync_run_interval_is_not_empty",
    "integration_external_ids_are_an_object",
)


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), BUSINESS_TZ)


def add_integration(conn: psycopg.Connection, tenant: str, provider: str, *, active: bool = True) -> int:
    return conn.execute(
        "insert into control.integrations (tenant_id, provider, name, external_ids, credentials, key_id, is_active) "
        "values (%s, %s, 'main', '{}'::jsonb, '\\x00'::bytea, 'k1', %s) returning integration_id",
        (tenant, provider, active),
    ).fetchone()[0]


def add_run(
    conn: psycopg.Connection,
    integration_id: int,
    start: date,
    end: datetime | date,
    status: str,
    *,
    error: str | None = None,
    started: datetime | None = None,
) -> None:
    tenant, provider = conn.execute(
        "select tenant_id, provider from control.integrations where integration_id = %s", (integration_id,)
    ).fetchone()
    end_at = end if isinstance(end, datetime) else midnight(end)
    started = started or end_at + timedelta(hours=4)
    conn.execute(
        "insert into ops.sync_runs (integration_id, tenant_id, provider, interval_start, interval_end, started_at, "
        "finished_at, status, error) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            integration_id,
            tenant,
            provider,
            midnight(start),
            end_at,
            started,
            None if status == "running" else started + timedelta(minutes=3),
            status,
            error,
        ),
    )


@pytest.fixture(scope="module")
def freshness(clean_module_warehouse: str) -> tuple[str, dict[str, int], dict[int, tuple]]:
    url = clean_module_warehouse
    with psycopg.connect(url) as conn:
        ids = {
            "current": add_integration(conn, "t1", "ifood"),
            "failing": add_integration(conn, "t1", "pluggy"),
            "never": add_integration(conn, "t2", "ifood"),
            "past_midnight": add_integration(conn, "t2", "pluggy"),
            "inactive": add_integration(conn, "t3", "ifood", active=False),
            "gap": add_integration(conn, "t3", "pluggy"),
            "healed_gap": add_integration(conn, "t4", "pluggy"),
        }
        add_run(conn, ids["current"], date(2026, 10, 1), date(2026, 10, 30), "success")
        add_run(conn, ids["current"], date(2026, 10, 30), date(2026, 10, 31), "success")
        # The bank sync worked until the 28th, then failed three days in a row.
        add_run(conn, ids["failing"], date(2026, 10, 1), date(2026, 10, 28), "success")
        for day in (28, 29, 30):
            add_run(
                conn,
                ids["failing"],
                date(2026, 10, day),
                date(2026, 10, day + 1),
                "failed",
                error=f"ProviderError: Pluggy answered 503 on day {day}\nTraceback (most recent call last): ...",
            )
        add_run(conn, ids["never"], date(2026, 10, 30), date(2026, 10, 31), "running")
        # A sync whose interval reaches into the as-of day covers everything before it.
        add_run(conn, ids["past_midnight"], date(2026, 10, 1), midnight(AS_OF) + timedelta(hours=15), "success")
        add_run(conn, ids["inactive"], date(2026, 10, 1), date(2026, 10, 2), "success")
        # Down from the 20th to the 24th, longer than the 2-day look-back: the daily runs since
        # the 25th succeeded (each re-reading two days back), but the 20th-22nd were never extracted.
        add_run(conn, ids["gap"], date(2026, 10, 1), date(2026, 10, 20), "success")
        for day in range(25, 31):
            add_run(conn, ids["gap"], date(2026, 10, day - 2), date(2026, 10, day + 1), "success")
        # The same hole, then a backfill over it.
        add_run(conn, ids["healed_gap"], date(2026, 10, 1), date(2026, 10, 20), "success")
        add_run(conn, ids["healed_gap"], date(2026, 10, 25), date(2026, 10, 31), "success")
        add_run(conn, ids["healed_gap"], date(2026, 10, 18), date(2026, 10, 26), "success")
    run_dbt(url, BUILD, as_of=AS_OF, quiet=True)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select integration_id, data_as_of_date, is_stale, days_behind, last_attempt_status, "
            "last_failure_error, success_count, coverage_gaps from marts.fct_integration_freshness"
        ).fetchall()
    return url, ids, {row[0]: row[1:] for row in rows}


def test_one_row_per_active_integration(freshness) -> None:
    _, ids, rows = freshness
    assert set(rows) == {ids[k] for k in ("current", "failing", "never", "past_midnight", "gap", "healed_gap")}


def test_a_sync_reaching_the_as_of_date_is_current(freshness) -> None:
    _, ids, rows = freshness
    assert rows[ids["current"]] == (AS_OF, False, 0, "success", None, 2, 0)
    assert rows[ids["past_midnight"]][:3] == (AS_OF, False, 0)


def test_failures_leave_the_integration_stale_as_of_its_last_success(freshness) -> None:
    _, ids, rows = freshness
    data_as_of, stale, behind, last_status, error, successes, _ = rows[ids["failing"]]
    assert (data_as_of, stale, behind, last_status, successes) == (date(2026, 10, 28), True, 3, "failed", 1)
    assert error == "ProviderError: Pluggy answered 503 on day 30"


def test_an_integration_never_synced_is_stale(freshness) -> None:
    _, ids, rows = freshness
    assert rows[ids["never"]] == (None, True, None, "running", None, 0, 0)


def test_the_freshness_tests_fail_on_what_they_guard(freshness) -> None:
    """Each of the three data tests fails on its own corruption (tests/test_dbt_tests_can_fail.py style)."""
    url, ids, _ = freshness
    with psycopg.connect(url) as conn:
        # The mart says the failing bank sync is current.
        conn.execute(
            "update marts.fct_integration_freshness set is_stale = false where integration_id = %s", (ids["failing"],)
        )
        # A run whose interval ends before it starts (a failed one: it covers nothing either way).
        add_run(conn, ids["never"], date(2026, 10, 30), date(2026, 10, 29), "failed", error="x")
        conn.execute(
            "update control.integrations set external_ids = '[]'::jsonb where integration_id = %s", (ids["current"],)
        )
    outcomes = dbt_outcomes(url, ("test", "--select", *TESTS), as_of=AS_OF)
    assert outcomes == dict.fromkeys(TESTS, "fail")


def test_a_hole_longer_than_the_look_back_keeps_the_integration_stale_until_backfilled(freshness) -> None:
    _, ids, rows = freshness
    data_as_of, is_stale, days_behind, last_status, _, _, gaps = rows[ids["gap"]]
    assert (data_as_of, is_stale, gaps, last_status) == (date(2026, 10, 20), True, 1, "success")
    assert days_behind == 11
    data_as_of, is_stale, _, _, _, _, gaps = rows[ids["healed_gap"]]
    assert (data_as_of, is_stale, gaps) == (date(2026, 10, 31), False, 0)
