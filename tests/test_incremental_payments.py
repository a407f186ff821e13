"""The daily incremental build of the payment models (gateways, Hotmart, Kiwify) equals a full refresh (issues 9, 10).

A small gateway world (iFood sells nothing) is loaded the way the daily DAG loads it: PushinPay's
notifications landed as the webhook sink lands them, each day's, then most of the history
extracted and fully built, then one day at a time, each followed by the daily (incremental)
build. After every day every payment mart must equal what a full refresh computes from the same
raw and control tables (built on a copy of the database, so the chain goes on from its own
incremental state), except the columns that say when a row was evaluated (`as_of_date`,
`changed_at`). On one day a finance team edits two tenants' contracts and a tolerance: those
tenants' rows must be re-evaluated. And the builds must really be incremental: most rows are kept
from earlier builds, and a payout whose verdict moves on a later day (in transit, then matched or
missing) re-evaluates its payments although none of them was reloaded.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import psycopg
import pytest

from bench.payments_load import land_webhooks
from cli.demo import load_sandbox_contracts, register_sandbox_integrations
from ingestion import contracts, integrations
from ingestion.dbt_runner import run_dbt
from ingestion.pipeline import extract
from ingestion.tolerances import set_tolerance
from ingestion.warehouse import connection_parts, with_database
from plugins.providers.base import BUSINESS_TZ
from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig

pytestmark = pytest.mark.e2e

GATEWAYS = ("stripe", "mercadopago", "asaas", "pushinpay", "hotmart", "kiwify")
# Cards released within the world and payouts going wrong often enough that verdicts move
# from day to day; iFood sells nothing (its syncs are not run). Hotmart and Kiwify (the sales
# platforms) sell at their default rate and go through the same payment marts.
CONFIG = WorldConfig(
    seed=7,
    tenants=2,
    stores_per_tenant=1,
    days=18,
    orders_per_day=0,
    bank_noise_per_day=2,
    stripe_card_release_days=5,
    mercadopago_card_release_days=5,
    asaas_card_credit_days=5,
    payout_fault_rate=0.25,
)
MARTS = ("fct_payments", "fct_payment_splits", "fct_fee_audit", "fct_fee_audit_monthly", "fct_payment_reconciliation")
SELECT = ("--select", *(f"+{mart}" for mart in MARTS))
# The full refreshes compare data only; the daily builds run the data tests too (scoped to
# what the build wrote), as the daily DAG does.
NO_DATA_TESTS = ("--exclude", "resource_type:test resource_type:unit_test")
NO_UNIT_TESTS = ("--exclude", "resource_type:unit_test")
# Reload margin 0: an incremental build then reads only what the last load added, as in a
# daily run hours after the previous one.
DAILY = {"staging_reload_hours": 0}
# Columns that record when a row was evaluated, not what it says.
WHEN_EVALUATED = {"as_of_date", "changed_at"}
KEYS = {
    "fct_fee_audit_monthly": ("tenant_id", "platform", "month_start_date"),
}
DEFAULT_KEY = ("tenant_id", "platform", "payment_id")


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), BUSINESS_TZ)


def build(url: str, as_of: date, *, full_refresh: bool) -> None:
    if full_refresh:
        command = ("build", *SELECT, *NO_DATA_TESTS, "--full-refresh")
    else:
        command = ("build", *SELECT, *NO_UNIT_TESTS)
    run_dbt(url, command, as_of=as_of, extra_vars=DAILY, quiet=True)


def mart_rows(conn: psycopg.Connection, mart: str) -> list[tuple]:
    columns = [
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' and table_name = %s "
            "order by ordinal_position",
            (mart,),
        )
    ]
    compared = [c for c in columns if c not in WHEN_EVALUATED]
    key = KEYS.get(mart, DEFAULT_KEY)
    return conn.execute(f"select {', '.join(compared)} from marts.{mart} order by {', '.join(key)}").fetchall()


def all_marts(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {mart: mart_rows(conn, mart) for mart in MARTS}


def full_refresh_of_a_copy(url: str, admin: str, as_of: date) -> dict[str, list[tuple]]:
    """The marts a full refresh computes from the same raw and control tables, built on a copy of the database."""
    parts = connection_parts(url)
    source, owner = str(parts["dbname"]), str(parts["user"])
    copy = f"{source}_full"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{copy}" template "{source}" owner "{owner}"')
    try:
        copy_url = with_database(url, copy)
        build(copy_url, as_of, full_refresh=True)
        return all_marts(copy_url)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{copy}" with (force)')


def assert_same_rows(incremental: dict[str, list[tuple]], full: dict[str, list[tuple]], as_of: date) -> None:
    for mart in MARTS:
        a, b = incremental[mart], full[mart]
        assert len(a) == len(b), f"as of {as_of}: {mart} has {len(a)} rows incrementally, {len(b)} in a full refresh"
        differing = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        assert not differing, (
            f"as of {as_of}: {len(differing)} rows of {mart} differ (incremental, full refresh), e.g. {differing[:2]}"
        )


def load_day(url: str, world: World, start: date, end: date) -> None:
    """What the sink and the DAG's extract tasks bring for [start, end): the day's PushinPay
    notifications, then one sync per bank and gateway integration."""
    world_end = midnight(world.as_of)
    if end - start > timedelta(days=1):
        land_webhooks(url, world, world_end, before=end)
    else:
        land_webhooks(url, world, world_end, on=start)
    with psycopg.connect(url) as conn:
        found = [i for i in integrations.list_all(conn, active_only=True) if i.provider in ("pluggy", *GATEWAYS)]
    for integration in found:
        extract(integration.integration_id, midnight(start), midnight(end))


def payout_verdicts(conn: psycopg.Connection) -> dict[tuple[str, str, str], str]:
    return {
        (r[0], r[1], r[2]): r[3]
        for r in conn.execute(
            "select tenant_id, platform, payout_id, match_status from intermediate.int_payment_payouts_matched"
        )
    }


@pytest.fixture(scope="module")
def loaded_world(clean_module_warehouse: str):
    world = World(CONFIG)
    base_url, stop = start_in_thread(world, port=0)
    try:
        register_sandbox_integrations(clean_module_warehouse, world.credentials(base_url))
        load_sandbox_contracts(clean_module_warehouse, world)
        yield clean_module_warehouse, world
    finally:
        stop()


def test_daily_incremental_payment_builds_equal_a_full_refresh(loaded_world, server_admin_url: str) -> None:
    url, world = loaded_world
    first_daily = CONFIG.start + timedelta(days=CONFIG.days - 3)
    load_day(url, world, CONFIG.start, first_daily)
    build(url, first_daily, full_refresh=True)
    changed_tenant, fee_tenant = world.tenants[0].tenant_id, world.tenants[1].tenant_id

    kept: list[dict[str, int]] = []
    moved_payouts: list[tuple] = []
    for n in range(3):
        day = first_daily + timedelta(days=n)
        as_of = day + timedelta(days=1)
        if n == 1:
            # A finance team edits contracts and a tolerance: a new default split rate (with a
            # co-producer share) and a tighter grace for one tenant, a new PushinPay fee and a
            # Hotmart PIX release term for the other, all valid from before the history's end,
            # so rows built days ago change.
            valid_from = CONFIG.start + timedelta(days=3)
            with psycopg.connect(url) as conn:
                contracts.set_split_rate(
                    conn,
                    contracts.SplitRate(
                        changed_tenant,
                        None,
                        Decimal("0.05"),
                        Decimal("0.25"),
                        valid_from,
                        None,
                        coproducer_rate=Decimal("0.10"),
                    ),
                )
                set_tolerance(conn, changed_tenant, value_tolerance=None, grace_days=1, note="test")
                contracts.set_fee(
                    conn,
                    contracts.FeeSchedule(
                        fee_tenant, "pushinpay", "pix", 1, 1, Decimal("1.50"), Decimal("0.10"), 1, valid_from, None
                    ),
                )
                contracts.set_fee(
                    conn,
                    contracts.FeeSchedule(
                        fee_tenant, "hotmart", "pix", 1, 1, Decimal("9.90"), Decimal("1.00"), 4, valid_from, None
                    ),
                )
        with psycopg.connect(url) as conn:
            verdicts_before = payout_verdicts(conn)
        load_day(url, world, day, as_of)
        build(url, as_of, full_refresh=False)
        with psycopg.connect(url) as conn:
            newest = {
                mart: conn.execute(f"select max(changed_at) from marts.{mart}").fetchone()[0]
                for mart in MARTS
                if mart != "fct_fee_audit_monthly"
            }
            kept.append(
                {
                    mart: conn.execute(
                        f"select count(*) from marts.{mart} where changed_at < %s", (newest[mart],)
                    ).fetchone()[0]
                    for mart in newest
                }
            )
            # Payouts whose verdict moved on from in transit while none of their payments changed.
            newest_payment = conn.execute("select max(changed_at) from intermediate.int_payments").fetchone()[0]
            for key, status in payout_verdicts(conn).items():
                if verdicts_before.get(key) != "in_transit" or status == "in_transit":
                    continue
                payments = conn.execute(
                    "select count(*), count(*) filter (where changed_at = %s) from intermediate.int_payments "
                    "where tenant_id = %s and platform = %s and payout_id = %s",
                    (newest_payment, *key),
                ).fetchone()
                if payments[0] > 0 and payments[1] == 0:
                    evaluated = conn.execute(
                        "select count(*) from marts.fct_payment_reconciliation where tenant_id = %s and platform = %s "
                        "and payout_id = %s and changed_at = %s and as_of_date = %s",
                        (*key, newest["fct_payment_reconciliation"], as_of),
                    ).fetchone()[0]
                    moved_payouts.append((as_of, key, status, payments[0], evaluated))
            if n == 1:
                contract_rows = {
                    mart: conn.execute(
                        f"select count(*), count(*) filter (where changed_at = %s) from marts.{mart} where tenant_id = %s",
                        (newest[mart], tenant),
                    ).fetchone()
                    for mart, tenant in (
                        ("fct_payment_splits", changed_tenant),
                        ("fct_payment_reconciliation", changed_tenant),
                        ("fct_fee_audit", fee_tenant),
                    )
                }
                pushinpay_rows = conn.execute(
                    "select count(*), count(*) filter (where changed_at = %s) from marts.fct_payments "
                    "where tenant_id = %s and platform = 'pushinpay'",
                    (newest["fct_payments"], fee_tenant),
                ).fetchone()
                # A new release term moves R: every Hotmart sale of that tenant is recomputed.
                hotmart_rows = conn.execute(
                    "select count(*), count(*) filter (where changed_at = %s) from marts.fct_payments "
                    "where tenant_id = %s and platform = 'hotmart'",
                    (newest["fct_payments"], fee_tenant),
                ).fetchone()
                platform_rows = dict(
                    conn.execute(
                        "select platform, count(*) from marts.fct_payment_reconciliation "
                        "where platform in ('hotmart', 'kiwify') group by platform"
                    ).fetchall()
                )
        incremental = all_marts(url)
        full = full_refresh_of_a_copy(url, server_admin_url, as_of)
        assert_same_rows(incremental, full, as_of)

    # Every row of the tenants whose contracts or tolerance changed was re-evaluated that day.
    for mart, (rows, rewritten) in contract_rows.items():
        assert rows > 0 and rewritten == rows, (mart, rows, rewritten)
    assert pushinpay_rows[0] > 0 and pushinpay_rows[1] == pushinpay_rows[0], pushinpay_rows
    assert hotmart_rows[0] > 0 and hotmart_rows[1] == hotmart_rows[0], hotmart_rows
    # The sales platforms' sales were compared too (the marts hold them).
    assert platform_rows.get("hotmart", 0) > 0 and platform_rows.get("kiwify", 0) > 0, platform_rows

    # A payout's verdict moved on (in transit → matched / missing / …) on a later day with none of
    # its payments reloaded, and every one of its payments was re-evaluated as of that day.
    assert moved_payouts, "the world produced no payout leaving in_transit without its payments changing"
    for as_of, key, status, payments, evaluated in moved_payouts:
        assert evaluated == payments, (as_of, key, status, payments, evaluated)

    # Really incremental. The first daily build also rereads the rows of the load before it
    # (loaded_at >= the newest it holds: one integration's whole history, loaded in one sync);
    # on the last day, without contract changes, most rows are kept from earlier builds (a
    # full rebuild keeps none: the bound fails if every row is rewritten).
    for mart, count in kept[2].items():
        assert count > len(full[mart]) * 0.6, (mart, count, len(full[mart]))
