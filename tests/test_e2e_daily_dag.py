"""End to end: sandbox world → real DAG run (`airflow dags test`) → raw → dbt → mart = ground truth.

The sandbox serves its fake APIs on a real socket in this process; the DAG runs in an Airflow
subprocess that reaches it over HTTP and writes to the session's PostgreSQL database.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import psycopg
import pytest

from bench import ifood_floor
from cli.demo import load_sandbox_contracts, register_sandbox_integrations, replay_sandbox_webhooks
from ingestion import integrations
from ingestion.airflow_runner import PartialRunError, dag_test
from ingestion.vault import Keyring
from plugins.providers.registry import RAW_TABLES
from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig

pytestmark = pytest.mark.e2e

# Small, but with enough payout batches that every status and divergent reason occurs.
CONFIG = WorldConfig(
    seed=2026,
    tenants=2,
    stores_per_tenant=2,
    days=21,
    orders_per_day=12,
    bank_noise_per_day=3,
    # the gateways: cards released within the world, and enough payouts going wrong that every
    # gateway status and reason of docs/payment-reconciliation-rules.md occurs (0.3: and every one
    # Hotmart and Kiwify can produce between them)
    stripe_card_release_days=5,
    mercadopago_card_release_days=5,
    payout_fault_rate=0.3,
)
STATUSES = {"reconciled", "awaiting_settlement", "sales_only", "divergent", "cancelled"}
# docs/reconciliation-rules.md: every rule of the precedence table (None = reconciled).
REASONS = {
    None,
    "refund_after_payment",
    "cancellation_event",
    "missing_from_conciliation",
    "no_financial_events",
    "orphan_financial_event",
    "anticipation_fee",
    "late_payment",
    "partially_paid",
    "value_mismatch",
    "payment_missing",
    "awaiting_payment",
}
MART_SNAPSHOT = """
    select tenant_id, merchant_id, order_id, status, divergence_reason, gross_amount, expected_net_amount,
           paid_amount, difference_amount, expected_payment_date, paid_date, days_late, as_of_date
    from marts.fct_ifood_order_reconciliation order by tenant_id, order_id
"""


@pytest.fixture(scope="module")
def world() -> World:
    return World(CONFIG)


@pytest.fixture(scope="module")
def served(clean_module_warehouse: str, world: World):
    base_url, stop = start_in_thread(world, port=0)
    yield clean_module_warehouse, base_url
    stop()


@pytest.fixture(scope="module")
def broken_run(served, world: World):
    """The first run, with the second tenant's iFood credentials wrong: it must not hold back the rest."""
    url, base_url = served
    credentials = world.credentials(base_url)
    added = register_sandbox_integrations(url, credentials)
    replay_sandbox_webhooks(url, world, added)
    load_sandbox_contracts(url, world)
    broken = credentials["tenants"][1]
    with psycopg.connect(url) as conn:
        integration = integrations.add(
            conn,
            Keyring.load(),
            tenant_id=broken["tenant_id"],
            provider="ifood",
            name="sandbox",
            credentials={"client_id": broken["ifood"]["client_id"], "client_secret": "wrong-secret"},
            external_ids={"merchant_ids": broken["ifood"]["merchant_ids"]},
            base_url=credentials["base_urls"]["ifood"],
        )
    last_day = CONFIG.start + timedelta(days=CONFIG.days - 1)
    with pytest.raises(PartialRunError) as failure:
        dag_test(last_day, conf={"lookback_days": CONFIG.days - 1})
    with psycopg.connect(url) as conn:
        mart = conn.execute(MART_SNAPSHOT).fetchall()
        runs = conn.execute(
            "select integration_id, tenant_id, provider, status, retryable from ops.sync_runs order by sync_run_id"
        ).fetchall()
        freshness = dict(
            conn.execute("select integration_id, is_stale from marts.fct_integration_freshness").fetchall()
        )
    integration_names = {i.integration_id: (p, i.tenant_id) for p, _, i in added}
    return str(failure.value), integration, broken["tenant_id"], mart, runs, freshness, integration_names


@pytest.fixture(scope="module")
def first_run(served, broken_run):
    """The same day again with every credential right: the look-back re-extracts what was missed."""
    url, base_url = served
    with psycopg.connect(url) as conn:
        runs_before = conn.execute("select max(sync_run_id) from ops.sync_runs").fetchone()[0]
    register_sandbox_integrations(url, World(CONFIG).credentials(base_url))
    last_day = CONFIG.start + timedelta(days=CONFIG.days - 1)
    dag_test(last_day, conf={"lookback_days": CONFIG.days - 1})
    with psycopg.connect(url) as conn:
        mart = conn.execute(MART_SNAPSHOT).fetchall()
        raw_counts = raw_row_counts(conn)
    return url, base_url, last_day, mart, raw_counts, runs_before


def raw_row_counts(conn: psycopg.Connection) -> dict[str, int]:
    return {t: conn.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in RAW_TABLES}


def test_the_world_exercises_every_status_and_reason(world: World) -> None:
    truth = list(world.facts["ifood"].ground_truth())
    assert {row["status"] for row in truth} == STATUSES
    assert {row["reason"] for row in truth} == REASONS


def test_one_tenants_wrong_credentials_do_not_hold_back_the_others(broken_run, world: World) -> None:
    message, integration, broken_tenant, mart, runs, freshness, registered = broken_run
    # The run names the integration, says what to do, and does not retry what cannot heal.
    assert f"integration {integration.integration_id} ({broken_tenant}/ifood/sandbox) failed" in message
    assert "ifood refused the credentials" in message and "Check the integration's credentials" in message
    assert "wrong-secret" not in message
    broken_attempts = [r for r in runs if r[0] == integration.integration_id]
    assert [(r[3], r[4]) for r in broken_attempts] == [("failed", False)], "one attempt, no retries"
    assert sorted(r[0] for r in runs if r[3] == "success") == sorted(
        i for i in registered if i != integration.integration_id
    ), "every other integration (banks, iFood, every gateway account) extracted"
    # Every other tenant's orders were transformed and match the ground truth; the broken
    # tenant's iFood orders are simply not there yet (nothing partial).
    truth = {
        (row["tenant_id"], row["order_id"]): (row["status"], row["reason"])
        for row in world.facts["ifood"].ground_truth()
        if row["tenant_id"] != broken_tenant
    }
    got = {(row[0], row[2]): (row[3], row[4]) for row in mart}
    assert got == truth
    # The freshness mart says whose data is behind.
    assert {i for i, stale in freshness.items() if stale} == {integration.integration_id}
    assert set(freshness) == set(registered), "one freshness row per integration"


def test_every_order_ends_in_its_ground_truth_status_and_reason(first_run, world: World) -> None:
    _, _, _, mart, _, _ = first_run
    truth = {
        (row["tenant_id"], row["order_id"]): (row["status"], row["reason"])
        for row in world.facts["ifood"].ground_truth()
    }
    got = {(row[0], row[2]): (row[3], row[4]) for row in mart}
    assert got.keys() == truth.keys()
    wrong = {key: (got[key], truth[key]) for key in truth if got[key] != truth[key]}
    assert not wrong, f"{len(wrong)} orders differ (got, truth): {list(wrong.items())[:10]}"
    assert Counter(status for status, _ in got.values()).keys() == STATUSES
    assert {reason for _, reason in got.values()} == REASONS


def test_the_benchmark_floor_agrees_with_the_ground_truth(first_run, world: World) -> None:
    """The third reading of the rules (bench/ifood_floor.py), on the raw rows the DAG loaded."""
    url, _, last_day, _, _, _ = first_run
    with psycopg.connect(url) as conn:
        holidays, _ = ifood_floor.holiday_table(conn)
        ifood_floor.run(conn, holidays, ifood_floor.parameters(last_day + timedelta(days=1)))
        floor = {
            (tenant, order): (status, reason)
            for tenant, order, status, reason in conn.execute(
                f"select tenant_id, order_id, status, divergence_reason from {ifood_floor.FLOOR_TABLE}"
            )
        }
        conn.execute("drop schema bench_floor cascade")
        conn.commit()
    truth = {
        (row["tenant_id"], row["order_id"]): (row["status"], row["reason"])
        for row in world.facts["ifood"].ground_truth()
    }
    assert floor.keys() == truth.keys()
    wrong = {key: (floor[key], truth[key]) for key in truth if floor[key] != truth[key]}
    assert not wrong, f"{len(wrong)} orders differ (floor, truth): {list(wrong.items())[:10]}"


def test_the_sync_runs_are_recorded(first_run) -> None:
    url, _, _, _, _, runs_before = first_run
    with psycopg.connect(url) as conn:
        runs = conn.execute(
            "select provider, status, rows_fetched, rows_written from ops.sync_runs order by sync_run_id"
        ).fetchall()
        integrations = conn.execute("select count(*) from control.integrations where is_active").fetchone()[0]
        synced = sum(
            conn.execute(f"select count(*) from raw.{t} where sync_run_id is not null").fetchone()[0]
            for t in RAW_TABLES
        )
    healed = runs[runs_before:]
    assert len(healed) == integrations  # banks, iFood and every gateway account
    assert all(status == "success" for _, status, _, _ in healed)
    # what the syncs say they wrote is what raw holds from them (webhook rows land without a sync)
    assert sum(r[3] for r in runs if r[1] == "success") == synced


def test_rerunning_the_same_day_changes_nothing(first_run) -> None:
    url, _, last_day, mart, raw_counts, _ = first_run
    with psycopg.connect(url) as conn:
        runs_before = conn.execute("select max(sync_run_id) from ops.sync_runs").fetchone()[0]
    dag_test(last_day, conf={"lookback_days": CONFIG.days - 1})
    with psycopg.connect(url) as conn:
        assert conn.execute(MART_SNAPSHOT).fetchall() == mart
        assert raw_row_counts(conn) == raw_counts
        reruns = conn.execute(
            "select count(*), sum(rows_written) from ops.sync_runs where sync_run_id > %s", (runs_before,)
        ).fetchone()
        integrations = conn.execute("select count(*) from control.integrations where is_active").fetchone()[0]
    assert reruns == (integrations, 0)


# ----------------------------------------------------------------------------------- gateways

GATEWAYS = ("stripe", "asaas", "mercadopago", "pushinpay")
GATEWAY_MARTS = """
    select r.platform, r.payment_id, r.tenant_id, r.method, r.installments, r.payment_status,
           r.gross_amount, r.fee_amount, r.net_amount, r.expected_release_date, r.payout_amount, r.payout_date,
           r.bank_transaction_id, r.status, r.reason, r.rule,
           s.platform_fee, s.affiliate_commission, s.producer_amount, s.split_mismatch,
           a.contracted_fee_amount, a.overcharge_amount, a.audit_status
    from marts.fct_payment_reconciliation as r
    left join marts.fct_payment_splits as s using (platform, payment_id)
    left join marts.fct_fee_audit as a using (platform, payment_id)
    where r.platform in ('stripe', 'asaas', 'mercadopago', 'pushinpay')
"""
AUDIT_STATUS = {"ok": "within_contract", "overcharged": "overcharged", "no_contract": "no_contract", None: None}


def _gateway_expected(row: dict) -> tuple:
    took_money = row["payment_status"] in ("paid", "refunded", "charged_back")
    return (
        row["tenant_id"],
        row["method"],
        row["installments"],
        row["payment_status"],
        row["gross_amount"],
        row["fee_amount"],
        row["net_amount"],
        row["expected_release_date"],
        row["payout_amount"],
        row["payout_date"],
        row["bank_transaction_id"],
        row["status"],
        row["reason"],
        row["rule"],
        row["platform_fee"] if took_money else None,
        row["affiliate_commission"] if took_money else None,
        row["producer_amount"] if took_money else None,
        row["split_mismatch"] if took_money else None,
        row["contracted_fee"] if took_money else None,
        row["overcharge_amount"] if took_money else None,
        AUDIT_STATUS[row["fee_status"]] if took_money else None,
    )


def test_the_world_exercises_every_gateway_status_reason_and_method(world: World) -> None:
    from sandbox.core.payments.facts import CANONICAL_STATUSES
    from sandbox.core.payments.facts import REASONS as GATEWAY_REASONS

    rows = [row for name in GATEWAYS for row in world.facts[name].ground_truth()]
    assert {(row["status"], row["reason"]) for row in rows} == set(GATEWAY_REASONS)
    assert {row["payment_status"] for row in rows} == set(CANONICAL_STATUSES)
    assert {(row["platform"], row["method"]) for row in rows} == {
        ("stripe", "card"), ("stripe", "pix"), ("mercadopago", "card"), ("mercadopago", "pix"),
        ("asaas", "card"), ("asaas", "pix"), ("asaas", "boleto"), ("pushinpay", "pix"),
    }  # fmt: skip
    assert any(row["fee_status"] == "overcharged" for row in rows)
    assert any(row["split_mismatch"] for row in rows)


def test_every_gateway_payment_equals_the_ground_truth(first_run, world: World) -> None:
    """Net, split, fee finding and status of every payment of every gateway, as the DAG built them."""
    url = first_run[0]
    with psycopg.connect(url) as conn:
        cur = conn.execute(GATEWAY_MARTS)
        names = [c.name for c in cur.description]
        mart = {(r[0], r[1]): dict(zip(names, r, strict=True)) for r in cur.fetchall()}
    truth = {(row["platform"], row["payment_id"]): row for name in GATEWAYS for row in world.facts[name].ground_truth()}
    assert set(mart) == set(truth), (
        f"missing from the mart: {sorted(set(truth) - set(mart))[:5]}; not in the world: {sorted(set(mart) - set(truth))[:5]}"
    )
    differing = []
    for key, row in truth.items():
        got = mart[key]
        actual = (
            got["tenant_id"], got["method"], got["installments"], got["payment_status"], got["gross_amount"],
            got["fee_amount"], got["net_amount"], got["expected_release_date"], got["payout_amount"], got["payout_date"],
            got["bank_transaction_id"], got["status"], got["reason"], got["rule"], got["platform_fee"],
            got["affiliate_commission"], got["producer_amount"], got["split_mismatch"], got["contracted_fee_amount"],
            got["overcharge_amount"], got["audit_status"],
        )  # fmt: skip
        if actual != _gateway_expected(row):
            differing.append((key, _gateway_expected(row), actual))
    assert not differing, f"{len(differing)} of {len(truth)} payments differ; first: {differing[:3]}"


# ---------------------------------------------------------------------------- sales platforms

SALES_PLATFORMS = ("hotmart", "kiwify")
# docs/payment-reconciliation-rules.md, "Sales platforms": a Hotmart sale released is always in its
# day's deposit, and the sandbox's Kiwify lists a payout every release day, so neither produces
# `not_paid_out` (a paid sale left out of every payout); every other (status, reason) pair occurs.
SALES_REASONS_NOT_PRODUCED = {("DISCREPANCY", "not_paid_out")}
SALES_MARTS = """
    select r.platform, r.payment_id, r.tenant_id, r.method, r.installments, r.payment_status,
           r.gross_amount, r.fee_amount, r.net_amount, r.expected_release_date, r.payout_amount, r.payout_date,
           r.bank_transaction_id, r.status, r.reason, r.rule,
           s.platform_fee, s.affiliate_commission, s.coproducer_commission, s.producer_amount, s.split_difference,
           s.split_mismatch, s.reported_affiliate_commission, s.reported_coproducer_commission, s.stated_net_amount,
           s.affiliate_difference, s.coproducer_difference, s.producer_difference,
           a.contracted_fee_amount, a.overcharge_amount, a.audit_status, p.subscription_id
    from marts.fct_payment_reconciliation as r
    inner join marts.fct_payments as p using (tenant_id, platform, payment_id)
    left join marts.fct_payment_splits as s using (tenant_id, platform, payment_id)
    left join marts.fct_fee_audit as a using (tenant_id, platform, payment_id)
    where r.platform in ('hotmart', 'kiwify')
"""
SALES_COMPARED = (
    "tenant_id", "method", "installments", "payment_status", "gross_amount", "fee_amount", "net_amount",
    "expected_release_date", "payout_amount", "payout_date", "bank_transaction_id", "status", "reason", "rule",
    "platform_fee", "affiliate_commission", "coproducer_commission", "producer_amount", "split_difference",
    "split_mismatch", "reported_affiliate_commission", "reported_coproducer_commission", "stated_net_amount",
    "affiliate_difference", "coproducer_difference", "producer_difference", "subscription_id",
)  # fmt: skip


def _sales_expected(row: dict) -> dict:
    took_money = row["payment_status"] in ("paid", "refunded", "charged_back")
    expected = {column: row[column] for column in SALES_COMPARED}
    expected["contracted_fee_amount"] = row["contracted_fee"] if took_money else None
    expected["overcharge_amount"] = row["overcharge_amount"] if took_money else None
    expected["audit_status"] = AUDIT_STATUS[row["fee_status"]] if took_money else None
    return expected


def test_the_world_exercises_every_sales_platform_status_and_reason(world: World) -> None:
    """Hotmart and Kiwify between them produce every (status, reason) the rules let them produce, and
    each of them every canonical status it has, commissions by role that disagree, over-charges,
    co-producers and subscriptions: the comparison below cannot pass vacuously."""
    from sandbox.core.payments.facts import CANONICAL_STATUSES
    from sandbox.core.payments.facts import REASONS as GATEWAY_REASONS

    rows = {name: world.facts[name].ground_truth() for name in SALES_PLATFORMS}
    pairs = {(row["status"], row["reason"]) for name in SALES_PLATFORMS for row in rows[name]}
    assert pairs == set(GATEWAY_REASONS) - SALES_REASONS_NOT_PRODUCED
    assert {row["payment_status"] for row in rows["hotmart"]} == set(CANONICAL_STATUSES)
    assert {row["payment_status"] for row in rows["kiwify"]} == set(CANONICAL_STATUSES) - {"expired"}  # Kiwify: refused
    for name in SALES_PLATFORMS:
        assert {row["method"] for row in rows[name]} == {"card", "pix", "boleto"}, name
        assert any(row["fee_status"] == "overcharged" for row in rows[name]), name
        assert any(row["split_mismatch"] for row in rows[name]), name
        assert any(row["coproducer_commission"] for row in rows[name]), name
        assert any(row["reported_affiliate_commission"] for row in rows[name]), name
        assert any(row["subscription_id"] for row in rows[name]), name
        assert {row["reason"] for row in rows[name]} >= {"refunded_after_payout", "chargeback"}, name


def test_every_sales_platform_sale_equals_the_ground_truth(first_run, world: World) -> None:
    """Status, reason, net, commissions by role, fee finding and subscription of every Hotmart and
    Kiwify sale, as the DAG built them."""
    url = first_run[0]
    with psycopg.connect(url) as conn:
        cur = conn.execute(SALES_MARTS)
        names = [c.name for c in cur.description]
        mart = {(r[0], r[1]): dict(zip(names, r, strict=True)) for r in cur.fetchall()}
    truth = {
        (row["platform"], row["payment_id"]): row
        for name in SALES_PLATFORMS
        for row in world.facts[name].ground_truth()
    }
    assert set(mart) == set(truth), (
        f"missing from the mart: {sorted(set(truth) - set(mart))[:5]}; not in the world: {sorted(set(mart) - set(truth))[:5]}"
    )
    differing = []
    for key, row in truth.items():
        expected = _sales_expected(row)
        got = {column: mart[key][column] for column in expected}
        if got != expected:
            differing.append((key, {c: (expected[c], got[c]) for c in expected if expected[c] != got[c]}))
    by_column = Counter((key[0], column) for key, diff in differing for column in diff)
    examples = {column: next((key, d[column]) for key, d in differing if column in d) for _, column in by_column}
    assert not differing, f"{len(differing)} of {len(truth)} sales differ: {dict(by_column)}; e.g. {examples}"
