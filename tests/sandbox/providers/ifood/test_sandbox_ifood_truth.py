"""iFood's ground truth: the twelve rules at their boundaries, and every order's status checked against
a second, hand-written reading of docs/reconciliation-rules.md and against what the generator meant."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from served_sandbox import E2E, world_of

from sandbox.core.bank import KIND_PAYOUT
from sandbox.core.calendar import add_business_days, business_days_between, is_business_day, roll_forward
from sandbox.providers.ifood.payer import IFOOD_PAYER
from sandbox.providers.ifood.rules import MISSING_FROM_CONCILIATION_DAYS, TOLERANCE
from sandbox.providers.ifood.truth import batch_status
from sandbox.world import World, WorldConfig

DEFAULT = world_of(WorldConfig())  # the demo's world; several tests read it
IFOOD = DEFAULT.facts["ifood"]
COVERAGE_WORLDS = [WorldConfig(), E2E]


E = date(2026, 10, 14)  # a Wednesday: E + 3 business days = Monday 2026-10-19
T = Decimal("100.00")


@pytest.mark.parametrize(
    ("credits", "as_of", "fee", "expected"),
    [
        ([(E, "100.00")], date(2026, 10, 30), None, ("reconciled", None)),
        ([(E, "100.10")], date(2026, 10, 30), None, ("reconciled", None)),  # tolerance is inclusive
        ([(E, "99.90")], date(2026, 10, 30), None, ("reconciled", None)),
        ([(E, "100.11")], date(2026, 10, 30), None, ("divergent", "value_mismatch")),
        ([(date(2026, 10, 19), "100.00")], date(2026, 10, 30), None, ("reconciled", None)),  # 5 calendar days
        ([(date(2026, 10, 20), "100.00")], date(2026, 10, 30), None, ("divergent", "late_payment")),
        ([(date(2026, 10, 20), "100.00")], date(2026, 10, 19), None, ("awaiting_settlement", "awaiting_payment")),
        ([(date(2026, 10, 20), "100.00")], date(2026, 10, 20), None, ("divergent", "payment_missing")),  # not visible
        ([(date(2026, 10, 20), "100.00")], date(2026, 10, 21), None, ("divergent", "late_payment")),
        ([], date(2026, 10, 19), None, ("awaiting_settlement", "awaiting_payment")),  # deadline = as_of
        ([], date(2026, 10, 20), None, ("divergent", "payment_missing")),
        ([(date(2026, 10, 13), "97.01")], date(2026, 10, 30), Decimal("2.99"), ("divergent", "anticipation_fee")),
        ([(date(2026, 10, 13), "97.01")], date(2026, 10, 30), None, ("divergent", "value_mismatch")),
        ([(E, "60.00"), (date(2026, 10, 16), "40.00")], date(2026, 10, 30), None, ("reconciled", None)),
        ([(E, "60.00"), (date(2026, 10, 20), "40.00")], date(2026, 10, 30), None, ("divergent", "late_payment")),
        (
            [(E, "60.00"), (date(2026, 10, 19), "40.00")],
            date(2026, 10, 19),
            None,
            ("awaiting_settlement", "partially_paid"),
        ),
        ([(E, "60.00")], date(2026, 10, 20), None, ("divergent", "value_mismatch")),  # deadline passed
        ([(E, "100.20")], date(2026, 10, 16), None, ("divergent", "value_mismatch")),  # over-paid: not partial
    ],
)
def test_batch_rules_at_their_boundaries(credits: list, as_of: date, fee: Decimal | None, expected: tuple) -> None:
    got = batch_status(T, E, [(d, Decimal(a)) for d, a in credits], as_of, anticipation_fee=fee)
    assert got == expected


def _check_truth_independently(world: World) -> None:
    """Recompute every order's status from the served facts with the rules doc, written out again here."""
    as_of, ifood = world.as_of, world.facts["ifood"]
    words = re.compile("cancel|estorno", re.IGNORECASE)
    totals: dict[tuple[str, date], Decimal] = {}
    for order in ifood.orders:
        for e in order.events:
            totals[(e.merchant_id, e.expected_date)] = totals.get((e.merchant_id, e.expected_date), 0) + e.amount
    batches = {(b.merchant_id, b.expected_date): b for b in ifood.batches}
    paid_by = _credits_by_the_rules(world, totals)
    truth = {row["order_id"]: (row["status"], row["reason"]) for row in world.facts["ifood"].ground_truth()}
    for order in ifood.orders:
        cancel = [e for e in order.events if words.search(e.name + " " + e.description)]
        other = [e for e in order.events if e not in cancel]
        if cancel:
            refund = other and max(c.expected_date for c in cancel) > max(e.expected_date for e in other)
            want = ("cancelled", "refund_after_payment" if refund else "cancellation_event")
        elif not order.events:
            late = add_business_days(order.business_date, 2) < as_of
            want = ("sales_only", "missing_from_conciliation" if late else "no_financial_events")
        elif not order.has_sale:
            want = ("divergent", "orphan_financial_event")
        else:
            expected = max(e.expected_date for e in other)
            batch = batches[(order.merchant_id, expected)]
            total = totals[(order.merchant_id, expected)]
            deadline = add_business_days(expected, 3)
            visible = paid_by.get((order.merchant_id, expected), [])
            on_time = sum((amount for day, amount in visible if day <= deadline), Decimal(0))
            has_on_time = any(day <= deadline for day, _ in visible)
            fee = batch.anticipation.fee if batch.anticipation else None
            if has_on_time and abs(on_time - total) <= TOLERANCE:
                want = ("reconciled", None)
            elif fee is not None and abs(on_time - (total - fee)) <= TOLERANCE:
                want = ("divergent", "anticipation_fee")
            elif any(day > deadline for day, _ in visible):
                want = ("divergent", "late_payment")
            elif 0 < on_time < total - TOLERANCE and deadline >= as_of:
                want = ("awaiting_settlement", "partially_paid")
            elif has_on_time:
                want = ("divergent", "value_mismatch")
            elif deadline < as_of:
                want = ("divergent", "payment_missing")
            else:
                want = ("awaiting_settlement", "awaiting_payment")
        assert truth[order.order_id] == want, order


def _credits_by_the_rules(world: World, totals: dict) -> dict[tuple[str, date], list[tuple[date, Decimal]]]:
    """ "Which credits pay a batch", written out again: items first, then the statement's other iFood credits."""
    as_of, ifood = world.as_of, world.facts["ifood"]
    paid: dict[tuple[str, date], list[tuple[date, Decimal]]] = {}
    for b in ifood.batches:
        # iFood lists a SUCCEED item for each credit in the bank, unless it does not list the batch at all.
        items = [c for c in b.credits if c.date < as_of] if (b.settlement_listed or b.anticipation) else []
        if items:
            paid[(b.merchant_id, b.expected_date)] = [(c.date, c.amount) for c in items]
    taken = {c.transaction_id for b in ifood.batches for c in b.credits if (b.merchant_id, b.expected_date) in paid}
    left = []  # (merchant, transaction id, date, amount) of the statement's iFood credits no item took
    for merchant in ifood.merchants:
        ledger = world.ledgers[merchant.account_id]
        for i in range(len(ledger)):
            from_ifood = ledger.kind[i] == KIND_PAYOUT and ledger.payouts[ledger.party[i]].payer == IFOOD_PAYER
            if from_ifood and ledger.transaction_id(i) not in taken:
                left.append(
                    (merchant.merchant_id, ledger.transaction_id(i), ledger.posting_date(i), ledger.amount_of(i))
                )
    tenant = {m.merchant_id: m.tenant_id for m in ifood.merchants}
    open_batches = [key for key in totals if key not in paid]
    for by_amount in (True, False):
        while True:  # take the best open pair, again and again
            pairs = [
                (
                    ((day - key[1]).days,) if by_amount else (),
                    abs(amount - totals[key]),
                    txn,
                    f"{tenant[key[0]]}|{key[0]}|{key[1]}",
                    key,
                    day,
                    amount,
                )
                for key in open_batches
                if key not in paid
                for merchant, txn, day, amount in left
                if merchant == key[0]
                and txn not in taken
                and (day >= key[1] and abs(amount - totals[key]) <= TOLERANCE if by_amount else day == key[1])
            ]
            if not pairs:
                break
            *_, txn, _, key, day, amount = min(pairs)
            paid[key] = [(day, amount)]
            taken.add(txn)
    return paid


def _check_payout_consistency(world: World) -> None:
    """Credits post on business days before the deadline rules say; parts add up; anticipations are early."""
    for batch in world.facts["ifood"].batches:
        for credit in batch.credits:
            assert is_business_day(credit.date)
        if batch.anticipation:
            a = batch.anticipation
            (credit,) = batch.credits
            assert credit.amount == a.amount == batch.total - a.fee and credit.date == a.date
            assert a.date == add_business_days(batch.last_sale_date, 1) < batch.expected_date
            assert a.date < world.as_of and a.fee > TOLERANCE
        if len(batch.credits) == 2:
            assert sum(c.amount for c in batch.credits) == batch.total
            assert batch.credits[0].date == batch.expected_date < batch.credits[1].date


def test_weekly_schedule_pays_on_the_wednesday_after_the_week() -> None:
    world = World(WorldConfig(tenants=1, stores_per_tenant=4, days=56, payout_schedule="weekly"))
    ifood = world.facts["ifood"]
    for order in ifood.orders:
        monday = order.business_date - timedelta(days=order.business_date.weekday())
        assert order.expected_date == roll_forward(monday + timedelta(days=9))
    assert {b.expected_date.weekday() for b in ifood.batches} <= {2, 3, 4}
    _check_truth_independently(world)
    _check_payout_consistency(world)
    assert len(ifood.ground_truth()) == len(ifood.orders)


@pytest.mark.parametrize("config", COVERAGE_WORLDS, ids=["default", "e2e"])
def test_truth_agrees_with_an_independent_reading_of_the_rules(config: WorldConfig) -> None:
    world = world_of(config)
    _check_truth_independently(world)
    _check_payout_consistency(world)


@pytest.mark.parametrize(("config", "late_days"), [(WorldConfig(), 14), (E2E, 10)], ids=["default", "e2e"])
def test_unlisted_batches_are_paid_only_in_the_bank(config: WorldConfig, late_days: int) -> None:
    """The coverage floor of unlisted_settlement_rate: a batch iFood does not list, paid exactly but
    very late (14 business days when the world allows it), is late_payment, not payment_missing;
    one paid on time and one paid a wrong amount on E are found by amount and by date."""
    world = world_of(config)
    ifood = world.facts["ifood"]
    unlisted = {b.fate: b for b in ifood.batches if not b.settlement_listed}
    assert set(unlisted) == {"very_late", "on_time", "wrong_amount"}
    truth = {row["order_id"]: (row["status"], row["reason"]) for row in world.facts["ifood"].ground_truth()}
    by_id = {o.order_id: o for o in ifood.orders}
    meant = {
        "very_late": ("divergent", "late_payment"),
        "on_time": ("reconciled", None),
        "wrong_amount": ("divergent", "value_mismatch"),
    }
    for fate, batch in unlisted.items():
        (credit,) = batch.credits
        assert credit.date < world.as_of
        regular = [oid for oid in batch.order_ids if by_id[oid].kind == "regular"]
        assert regular and {truth[oid] for oid in regular} == {meant[fate]}
    very_late = unlisted["very_late"]
    (credit,) = very_late.credits
    assert credit.amount == very_late.total
    assert business_days_between(very_late.expected_date, credit.date) == late_days
    # Beyond the 10 calendar days the mart used to search: that is what made it payment_missing.
    assert (credit.date - very_late.expected_date).days > 10
    quiet = World(replace(config, unlisted_settlement_rate=0))
    assert all(b.settlement_listed for b in quiet.facts["ifood"].batches)


def test_truth_matches_what_the_generator_meant() -> None:
    """Each fate ends in the reason it was designed for (a check on both the generator and the truth)."""
    truth = {row["order_id"]: (row["status"], row["reason"]) for row in IFOOD.ground_truth()}
    meant = {
        "within_tolerance": ("reconciled", None),
        "slightly_late": ("reconciled", None),
        "wrong_amount": ("divergent", "value_mismatch"),
        "late": ("divergent", "late_payment"),
        "never_paid": ("divergent", "payment_missing"),
        "anticipated": ("divergent", "anticipation_fee"),
        "partial": ("reconciled", None),
        "partial_late": ("divergent", "late_payment"),
        "partial_pending": ("awaiting_settlement", "partially_paid"),
        "very_late": ("divergent", "late_payment"),
    }
    by_id = {o.order_id: o for o in IFOOD.orders}
    for batch in IFOOD.batches:
        plain = [oid for oid in batch.order_ids if by_id[oid].kind == "regular"]
        statuses = {truth[oid] for oid in plain}
        assert len(statuses) <= 1
        if batch.fate in meant and statuses:
            assert statuses == {meant[batch.fate]}, batch.fate
    for order in IFOOD.orders:
        want = {
            "cancelled": ("cancelled", "cancellation_event"),
            "refunded": ("cancelled", "refund_after_payment"),
            "orphan": ("divergent", "orphan_financial_event"),
        }.get(order.kind)
        if want:
            assert truth[order.order_id] == want
        if order.kind == "sales_only":
            recent = add_business_days(order.business_date, MISSING_FROM_CONCILIATION_DAYS) >= DEFAULT.as_of
            assert truth[order.order_id] == (
                "sales_only",
                "no_financial_events" if recent else "missing_from_conciliation",
            )


def test_ground_truth_rows_have_the_documented_shape() -> None:
    rows = IFOOD.ground_truth()
    assert len(rows) == len(IFOOD.orders)
    assert set(rows[0]) == {"tenant_id", "merchant_id", "order_id", "status", "reason"}
    rows[0]["status"] = "tampered"
    assert IFOOD.ground_truth()[0]["status"] != "tampered", "callers get copies"
    everyone = DEFAULT.ground_truth()
    everyone[0]["status"] = "tampered"
    assert DEFAULT.ground_truth()[0]["status"] != "tampered", "the world's rows are copies too"
