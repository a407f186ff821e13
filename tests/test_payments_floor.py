"""The benchmark floor (bench/payments_floor.py) against the sandbox's ground truth, payment by payment.

A small sandbox world (one tenant, two stores, 61 days, 3 checkout orders per store, platform and
business day: ~1,100 payments over Stripe, Mercado Pago, Asaas and PushinPay and ~600 sales over
Hotmart and Kiwify) is loaded through the real path of bench/payments_load.py (the webhooks of
PushinPay, Hotmart and Kiwify landed, every integration synced, the contracts loaded) into the
session's test warehouse; the floor runs as of the world's as-of day and every payment is compared
with `World.facts[name].ground_truth()` on the canonical status, the status and reason, the net,
the split parts and the fee findings, and for the sales platforms on their commissions by role too
(`bench.payments.SALES_COMPARED`).

Every payment of every platform must agree. Two kinds once differed because the truth read facts no reading of raw
can see; the sandbox now tells only what a warehouse can observe (a PushinPay charge nobody paid
was never notified, so it is no payment; a Stripe payout would be created after the world's end on
the as-of day, so there is none), and the test says so by asserting that nothing differs.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from bench import payments_floor
from bench.payments import differences, rows_of
from bench.payments_load import FAILED_SYNCS, PLATFORMS, SALES_PLATFORMS, TRUTH_TABLE, Shape, load

SHAPE = Shape(tenants=1, stores_per_tenant=2, days=61, orders_per_day=3)


@pytest.fixture(scope="module")
def loaded(clean_module_warehouse: str) -> Iterator[str]:
    url = clean_module_warehouse
    try:
        FAILED_SYNCS.clear()
        load(url, SHAPE)
        with psycopg.connect(url) as conn:
            payments_floor.run(conn, payments_floor.parameters(SHAPE.as_of))
        yield url
    finally:
        with psycopg.connect(url) as conn:
            conn.execute(
                f"drop schema if exists bench_truth cascade; drop schema if exists {payments_floor.SCHEMA} cascade"
            )


def test_every_integration_loaded(loaded: str) -> None:
    assert FAILED_SYNCS == [], "syncs failed, so their payments are missing from raw:\n" + "\n".join(FAILED_SYNCS)


def test_floor_equals_ground_truth_for_every_payment(loaded: str) -> None:
    with psycopg.connect(loaded) as conn:
        floor = rows_of(conn, payments_floor.FLOOR_TABLE)
        truth = rows_of(conn, TRUTH_TABLE)
    assert len(truth) > 1000
    assert {key[0] for key in truth} == set(PLATFORMS), "every platform sells in the world"
    assert {key[0] for key in floor} == set(PLATFORMS)
    gaps = differences(floor, truth)
    assert gaps == [], f"{len(gaps)} payments differ:\n" + "\n".join(
        f"{g.key} differs on {g.columns}:\n  floor {g.left}\n  truth {g.right}" for g in gaps[:10]
    )


def test_every_status_of_the_rules_occurs(loaded: str) -> None:
    """The world is varied enough for the comparison to mean something."""
    with psycopg.connect(loaded) as conn:
        rules = {r[0] for r in conn.execute(f"select distinct rule from {payments_floor.FLOOR_TABLE}")}
    assert {1, 2, 3, 4, 5, 6, 9, 10, 12, 13, 14} <= rules, sorted(rules)


def test_the_sales_platforms_findings_occur(loaded: str) -> None:
    """Hotmart's and Kiwify's sales reach the payout verdicts, the refunds after a deposit, the
    chargebacks and the commission and fee findings, so their agreement means something."""
    seen: set[int] = set()
    with psycopg.connect(loaded) as conn:
        for platform in SALES_PLATFORMS:
            rules, mismatches, overcharges, coproduced = conn.execute(
                f"select array_agg(distinct rule), count(*) filter (where split_mismatch), "
                f"count(*) filter (where fee_status = 'overcharged'), count(*) filter (where coproducer_commission > 0) "
                f"from {payments_floor.FLOOR_TABLE} where platform = %s",
                (platform,),
            ).fetchone()
            assert {1, 2, 4, 5, 6, 9} <= set(rules), (platform, sorted(rules))
            assert mismatches and overcharges and coproduced, (platform, mismatches, overcharges, coproduced)
            seen |= set(rules)
    assert 3 in seen, "a chargeback (a small world may have one on one platform only)"
