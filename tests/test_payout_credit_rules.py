"""Which bank credits pay a payout batch when iFood's settlements do not list it (docs/reconciliation-rules.md).

Raw rows, no settlement or anticipation item: the batch falls back to "the earliest unclaimed
iFood credit on or after E within the tolerance of T, however late; failing that, a credit on E".
The mart and the benchmark floor (two independent readings of the rules) must both call a credit
that arrived 14 or 60 business days late `late_payment`, never `payment_missing`: the store has
that money. The sandbox ground truth, the third reading, is checked on worlds that hold such a
batch (tests/sandbox/test_sandbox_world.py, tests/test_e2e_daily_dag.py).
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from bench import ifood_floor
from ingestion.dbt_runner import run_dbt
from sandbox.core.calendar import add_business_days

E = date(2026, 10, 5)  # a Monday; Monday 12 is a holiday
AS_OF = date(2027, 3, 1)
MODELS = ("build", "--select", "+fct_ifood_order_reconciliation", "--exclude", "resource_type:unit_test")

# tenant → (order net, expected date, credits (amount, posted date)), and what every reading must say.
CASES: dict[str, tuple[str, date, list[tuple[str, date]], tuple[str, str | None]]] = {
    # The case: 14 business days late is 15 calendar days, beyond the old 10-day window.
    "t-late-14": ("40.00", E, [("40.00", add_business_days(E, 14))], ("divergent", "late_payment")),
    "t-late-60": ("40.00", E, [("40.00", add_business_days(E, 60))], ("divergent", "late_payment")),
    "t-on-time": ("40.00", E, [("40.05", add_business_days(E, 3))], ("reconciled", None)),
    # A wrong amount on E itself is this batch's (value mismatch); on any other day it is not.
    "t-wrong-on-e": ("40.00", E, [("38.00", E)], ("divergent", "value_mismatch")),
    "t-wrong-later": ("40.00", E, [("38.00", add_business_days(E, 1))], ("divergent", "payment_missing")),
    # Nothing before E: iFood pays early only by anticipation, which has an item.
    "t-early": ("40.00", E, [("40.00", date(2026, 10, 2))], ("divergent", "payment_missing")),
}


@pytest.fixture(scope="module")
def built(clean_module_warehouse: str, paid_order) -> dict[tuple[str, str], tuple[str, str | None]]:
    """Every case loaded as raw rows, the mart built and the floor run; (tenant, reading) → (status, reason)."""
    url = clean_module_warehouse
    with psycopg.connect(url) as conn:
        for tenant, (net, expected, credits, _) in CASES.items():
            [(amount, posted)] = credits
            paid_order(
                conn,
                tenant,
                credit_amount=amount,
                credit_date=posted.isoformat(),
                expected_date=expected.isoformat(),
                net=net,
            )
        # Two batches of one store: A (E, R$ 40.00) never paid; B (E + 11 business days, R$ 40.05)
        # paid on its own date. B's credit is within tolerance of A's total too, but it is B's:
        # pairs are taken fewest days after E first.
        later = add_business_days(E, 11).isoformat()
        paid_order(
            conn, "t-two", credit_amount="40.05", credit_date=later, expected_date=later, net="40.05", order_suffix="b"
        )
        paid_order(
            conn,
            "t-two",
            credit_amount=None,
            credit_date=None,
            expected_date=E.isoformat(),
            net="40.00",
            order_suffix="a",
        )
    run_dbt(url, MODELS, as_of=AS_OF, quiet=True)
    with psycopg.connect(url) as conn:
        holidays, _ = ifood_floor.holiday_table(conn)
        ifood_floor.run(conn, holidays, ifood_floor.parameters(AS_OF))
        got = {}
        for reading, table in (("mart", "marts.fct_ifood_order_reconciliation"), ("floor", ifood_floor.FLOOR_TABLE)):
            for order_id, status, reason in conn.execute(
                f"select order_id, status, divergence_reason from {table}"
            ).fetchall():
                got[(order_id, reading)] = (status, reason)
    return got


@pytest.mark.parametrize("reading", ["mart", "floor"])
@pytest.mark.parametrize("tenant", list(CASES))
def test_a_batch_without_settlement_item_finds_its_credit(built, tenant: str, reading: str) -> None:
    assert built[(f"o-{tenant}", reading)] == CASES[tenant][3]


@pytest.mark.parametrize("reading", ["mart", "floor"])
def test_a_credit_pays_the_batch_closest_before_it(built, reading: str) -> None:
    assert built[("o-t-two-b", reading)] == ("reconciled", None)
    assert built[("o-t-two-a", reading)] == ("divergent", "payment_missing")
