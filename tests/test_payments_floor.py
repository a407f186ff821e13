"""The benchmark floor (bench/payments_floor.py) against the sandbox's ground truth, payment by payment.

A small sandbox world (one tenant, two stores, 61 days, 3 checkout orders per store, gateway and
business day: ~1,100 payments over Stripe, Mercado Pago, Asaas and PushinPay) is loaded through
the real path of bench/payments_load.py (PushinPay's webhooks landed, every integration synced,
the contracts loaded) into the session's test warehouse; the floor runs as of the world's as-of day and
every payment is compared with `World.facts[name].ground_truth()` on the canonical status, the
status and reason, the net, the split parts and the fee findings.

Two kinds of payment are known to differ, and no reading of the raw tables can agree on them (the
truth reads facts the warehouse cannot see); each is matched narrowly, listed here, and checked to
still occur, so the test says when one is gone:

- a PushinPay charge still `created` at the world's end: PushinPay notifies nothing on creation and
  has no list endpoint, so the warehouse never learns it exists (the truth lists it as
  PENDING/awaiting_payment);
- a Stripe payment whose payout is created on the as-of day itself (`arrival_date` = as-of): the
  truth names that payout (rule 15, awaiting_payout), but the run's extraction window ends at the
  as-of day's start, so raw has no such payout and the floor finds none (rule 6, awaiting_release,
  since its `R` is the as-of day).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from bench import payments_floor
from bench.payments import differences, rows_of
from bench.payments_load import FAILED_SYNCS, TRUTH_TABLE, Shape, load

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
        stripe_payouts = {r[0] for r in conn.execute("select external_id from raw.stripe_payouts")}
    assert len(truth) > 1000
    gaps = differences(floor, truth)

    def unnotified_pushinpay_charge(gap) -> bool:
        return gap.left is None and gap.key[0] == "pushinpay" and gap.right["payment_status"] == "pending"

    def stripe_payout_of_the_as_of_day(gap) -> bool:
        return (
            gap.key[0] == "stripe"
            and gap.left is not None
            and gap.columns == ("reason",)
            and (gap.left["rule"], gap.right["rule"]) == (6, 15)
            and gap.right["payout_date"] == SHAPE.as_of
            and gap.right["payout_id"] not in stripe_payouts
        )

    unexplained = [g for g in gaps if not (unnotified_pushinpay_charge(g) or stripe_payout_of_the_as_of_day(g))]
    assert unexplained == [], "\n".join(
        f"{g.key} differs on {g.columns}:\n  floor {g.left}\n  truth {g.right}" for g in unexplained[:10]
    )
    # The known gaps still occur (when one is fixed, drop it from this test and the module docstring).
    assert any(unnotified_pushinpay_charge(g) for g in gaps)
    assert any(stripe_payout_of_the_as_of_day(g) for g in gaps)


def test_every_status_of_the_rules_occurs(loaded: str) -> None:
    """The world is varied enough for the comparison to mean something."""
    with psycopg.connect(loaded) as conn:
        rules = {r[0] for r in conn.execute(f"select distinct rule from {payments_floor.FLOOR_TABLE}")}
    assert {1, 2, 3, 4, 5, 6, 9, 10, 12, 13, 14} <= rules, sorted(rules)
