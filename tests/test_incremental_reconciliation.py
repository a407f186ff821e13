"""The daily incremental build equals a full refresh on the same data (issue 3, "Incremental").

The sandbox world is loaded the way the daily DAG loads it — most of the history first, then
one business day per run — with real extraction over HTTP and real dbt builds. After every day
of the chain the incremental mart must equal what a full refresh computes from the same raw and
control tables (built on a copy of the database, so the chain goes on from its own incremental
state), and it must really be incremental: rows whose status cannot have changed keep the as-of
date of the build that last evaluated them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import psycopg
import pytest

from cli.demo import register_sandbox_integrations
from ingestion.dbt_runner import run_dbt
from ingestion.pipeline import active_integration_ids, extract
from ingestion.tolerances import set_tolerance
from ingestion.warehouse import connection_parts, with_database
from plugins.providers.base import BUSINESS_TZ
from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig

pytestmark = pytest.mark.e2e

CONFIG = WorldConfig(seed=31, tenants=2, stores_per_tenant=1, days=16, orders_per_day=15, bank_noise_per_day=2)
# The mart and everything upstream (seed included); the data tests run elsewhere.
MODELS = ("--select", "+fct_ifood_order_reconciliation", "--exclude", "resource_type:test resource_type:unit_test")
# Reload margin 0: an incremental build then reads only what the last load added, as in a
# daily run hours after the previous one (the 24 h default would reread everything here).
DAILY = {"staging_reload_hours": 0}
# Every column but the as-of date, which records when a row was last evaluated.
MART = """
    select tenant_id, merchant_id, order_id, payout_batch_id, status, divergence_reason, gross_amount,
           expected_net_amount, paid_amount, difference_amount, sale_date, expected_payment_date, paid_date,
           days_late, value_tolerance, grace_days, missing_from_conciliation_days,
           evidence - 'as_of_date', batch_fingerprint
    from marts.fct_ifood_order_reconciliation
    order by tenant_id, order_id
"""


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), BUSINESS_TZ)


def load(start: date, end: date) -> None:
    """Extract [start, end) for every integration, as the DAG's mapped extract tasks do."""
    for integration_id in active_integration_ids():
        extract(integration_id, midnight(start), midnight(end))


def build(url: str, as_of: date, *, full_refresh: bool) -> None:
    command = ("build", *MODELS, *(("--full-refresh",) if full_refresh else ()))
    run_dbt(url, command, as_of=as_of, extra_vars=DAILY, quiet=True)


def mart_rows(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(MART).fetchall()


def full_refresh_of_a_copy(url: str, admin: str, as_of: date) -> list[tuple]:
    """The mart a full refresh computes from the same raw and control tables, built on a copy of the database."""
    parts = connection_parts(url)
    source, owner = str(parts["dbname"]), str(parts["user"])
    copy = f"{source}_full"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{copy}" template "{source}" owner "{owner}"')
    try:
        copy_url = with_database(url, copy)
        build(copy_url, as_of, full_refresh=True)
        with psycopg.connect(copy_url) as conn:
            return mart_rows(conn)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{copy}" with (force)')


def assert_same_rows(incremental: list[tuple], full: list[tuple], day: date) -> None:
    assert len(incremental) == len(full), day
    differing = [(a, b) for a, b in zip(incremental, full, strict=True) if a != b]
    assert not differing, f"as of {day}: {len(differing)} rows differ (incremental, full refresh), e.g. {differing[:2]}"


@pytest.fixture(scope="module")
def loaded_world(clean_module_warehouse: str):
    world = World(CONFIG)
    base_url, stop = start_in_thread(world, port=0)
    try:
        register_sandbox_integrations(clean_module_warehouse, world.credentials(base_url))
        yield clean_module_warehouse, world
    finally:
        stop()


def test_daily_incremental_builds_equal_a_full_refresh(loaded_world, server_admin_url: str) -> None:
    url, world = loaded_world
    first_daily = CONFIG.start + timedelta(days=CONFIG.days - 3)
    load(CONFIG.start, first_daily)
    build(url, first_daily, full_refresh=True)

    # Three daily runs in a row, each incremental on the one before, each equal to a full refresh.
    kept_per_day = []
    for n in range(3):
        day = first_daily + timedelta(days=n)
        if n == 2:
            # A finance team tightens one tenant's grace period: its orders must be re-evaluated.
            with psycopg.connect(url) as conn:
                set_tolerance(conn, world.tenants[0].tenant_id, value_tolerance=None, grace_days=1, note="test")
        load(day, day + timedelta(days=1))
        as_of = day + timedelta(days=1)
        build(url, as_of, full_refresh=False)
        with psycopg.connect(url) as conn:
            kept = conn.execute(
                "select count(*) from marts.fct_ifood_order_reconciliation where as_of_date < %s", (as_of,)
            ).fetchone()[0]
            kept_per_day.append(kept)
            incremental = mart_rows(conn)
        full = full_refresh_of_a_copy(url, server_admin_url, as_of)
        assert_same_rows(incremental, full, as_of)

    # Really incremental. The first daily build also rereads the rows of the load before it
    # (loaded_at >= the newest it holds), here the second tenant's whole history; on the
    # second day that is just the first day's load, and most rows are left alone. After the
    # tolerance change every order of that tenant was re-evaluated.
    assert kept_per_day[1] > len(full) * 0.6, kept_per_day
    tenant_orders = sum(1 for row in full if row[0] == world.tenants[0].tenant_id)
    assert kept_per_day[2] <= len(full) - tenant_orders, kept_per_day
