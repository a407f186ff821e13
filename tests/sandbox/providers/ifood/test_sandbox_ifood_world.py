"""iFood's part of the world: merchants, orders and their events, payout batches, the status mix."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from served_sandbox import E2E, world_of

from sandbox.core.bank import KIND_PAYOUT
from sandbox.core.calendar import SAO_PAULO, add_business_days, is_business_day, roll_forward
from sandbox.core.ids import is_valid_cnpj
from sandbox.providers.ifood.orders import CANCELLATION_SPELLINGS
from sandbox.providers.ifood.payer import IFOOD_CNPJ, IFOOD_PAYER
from sandbox.providers.ifood.rules import GRACE_DAYS, REASONS, STATUSES
from sandbox.providers.ifood.truth import is_cancellation
from sandbox.world import World, WorldConfig

DEFAULT = world_of(WorldConfig())  # the demo's world; several tests read it
IFOOD = DEFAULT.facts["ifood"]


def ifood_status_counts(world: World) -> dict[str, int]:
    """iFood's orders per status (every iFood status present); the world's counts add the other platforms'."""
    counts = dict.fromkeys(STATUSES, 0)
    for row in world.facts["ifood"].ground_truth():
        counts[row["status"]] += 1
    assert all(world.status_counts()[status] == n for status, n in counts.items())
    return counts


# ------------------------------------------------------------------------------- entities


def test_ids_are_well_formed_and_unique() -> None:
    for merchant in IFOOD.merchants:
        assert uuid.UUID(merchant.merchant_id).version == 4 and re.fullmatch(r"\d{6}", merchant.short_id)
        assert merchant.cnpj == merchant.store.cnpj and merchant.tenant_id == merchant.store.tenant_id
    assert [m.store for m in IFOOD.merchants] == list(DEFAULT.stores), "every store is an iFood merchant"
    assert len({m.merchant_id for m in IFOOD.merchants}) == len(IFOOD.merchants)
    assert is_valid_cnpj(IFOOD_CNPJ)
    order_ids = [o.order_id for o in IFOOD.orders]
    assert len(order_ids) == len(set(order_ids))


def test_money_is_decimal_cents_and_timestamps_are_aware() -> None:
    for order in IFOOD.orders[:500]:
        for amount in (order.bag, order.delivery_fee, order.service_fee, order.benefit, order.gross):
            assert isinstance(amount, Decimal) and amount.as_tuple().exponent == -2
        assert order.created_at.tzinfo is not None
        for event in order.events:
            assert isinstance(event.amount, Decimal) and event.amount.as_tuple().exponent == -2
            assert event.date_time.tzinfo is not None
            assert event.date_time >= order.created_at
    for batch in IFOOD.batches:
        assert batch.total.as_tuple().exponent == -2
        for credit in batch.credits:
            assert isinstance(credit.amount, Decimal) and credit.amount.as_tuple().exponent == -2
        if batch.anticipation:
            assert batch.anticipation.fee.as_tuple().exponent == -2


def test_orders_follow_the_story() -> None:
    cfg = DEFAULT.config
    for order in IFOOD.orders:
        assert cfg.start <= order.business_date < cfg.as_of
        assert order.created_at.astimezone(SAO_PAULO).date() == order.business_date
        assert order.expected_date == roll_forward(order.business_date + timedelta(days=cfg.payout_term_days))
        assert is_business_day(order.expected_date)
        names = [e.name for e in order.events]
        assert order.has_sale == (order.kind != "orphan")
        if order.kind == "sales_only":
            assert not order.events
            continue
        assert names[0] == "ORDER_PAYMENT" and order.events[0].amount == order.paid_by_customer
        assert "ORDER_COMMISSION" in names and "TRANSACTION_FEE" in names
        assert ("IFOOD_SUBSIDY" in names) == (order.benefit > 0)
        if order.kind in ("cancelled", "refunded"):
            assert order.net == 0 and is_cancellation(order.events[-1])
            assert not any(is_cancellation(e) for e in order.events[:-1])
            reversal = order.events[-1]
            if order.kind == "cancelled":
                assert reversal.expected_date == order.expected_date
                assert order.history[-1].full_code == "CANCELLED"
            else:  # booked 2–5 days later, deducted from a later payout; the sale stays CONCLUDED
                assert 2 <= (reversal.business_date - order.business_date).days <= 5
                assert reversal.local_date == reversal.business_date < cfg.as_of
                assert reversal.expected_date == cfg.expected_payment_date(reversal.business_date)
                assert reversal.expected_date > order.expected_date
                assert order.history[-1].full_code == "CONCLUDED"
        else:
            assert order.net > 0 and not any(is_cancellation(e) for e in order.events)
    per_store_day = Counter((o.merchant_id, o.business_date) for o in IFOOD.orders)
    assert min(per_store_day.values()) >= 0.75 * cfg.orders_per_day - 1
    assert max(per_store_day.values()) <= 1.25 * cfg.orders_per_day + 1


def test_cancellations_use_every_spelling_and_each_matches_the_keywords() -> None:
    world = World(WorldConfig(seed=5, cancelled_rate=0.02))
    used = {(o.events[-1].name, o.events[-1].description) for o in world.facts["ifood"].orders if o.kind == "cancelled"}
    assert used == set(CANCELLATION_SPELLINGS)
    for name, description in CANCELLATION_SPELLINGS:
        assert re.search(r"cancel|estorno", f"{name} {description}", re.IGNORECASE)


def test_batches_hold_every_event_of_a_store_and_expected_date() -> None:
    by_id = {o.order_id: o for o in IFOOD.orders}
    in_batches = sorted(oid for b in IFOOD.batches for oid in b.order_ids)
    assert len(in_batches) == len(set(in_batches))
    payable = {o.order_id for o in IFOOD.orders if o.kind in ("regular", "orphan", "refunded")}
    assert payable <= set(in_batches)
    events: dict[tuple[str, date], list] = {}
    for order in IFOOD.orders:
        for event in order.events:
            events.setdefault((event.merchant_id, event.expected_date), []).append(event)
    kinds = Counter()
    for batch in IFOOD.batches:
        orders = [by_id[oid] for oid in batch.order_ids]
        assert {(o.merchant_id, o.expected_date) for o in orders} == {(batch.merchant_id, batch.expected_date)}
        mine = events[(batch.merchant_id, batch.expected_date)]
        # The total includes refund reversals deducted from this batch and orphan orders' events.
        assert batch.total == sum(e.amount for e in mine) > 0
        assert batch.first_sale_date == min(e.business_date for e in mine)
        assert batch.last_sale_date == max(e.business_date for e in mine)
        kinds.update(by_id[e.order_id].kind for e in mine if by_id[e.order_id].expected_date != batch.expected_date)
        kinds.update(o.kind for o in orders if o.kind == "orphan")
    assert kinds["refunded"] >= 1 and kinds["orphan"] >= 1


def test_the_bank_holds_the_visible_credits_from_ifood() -> None:
    cfg = DEFAULT.config
    for merchant in IFOOD.merchants:
        ledger = DEFAULT.ledgers[merchant.account_id]
        in_bank = {
            ledger.transaction_id(i): i
            for i, kind in enumerate(ledger.kind)
            if kind == KIND_PAYOUT and ledger.payouts[ledger.party[i]].payer == IFOOD_PAYER
        }
        credits = [c for b in IFOOD.batches if b.account_id == merchant.account_id for c in b.credits]
        visible = [c for c in credits if c.date < cfg.as_of]
        assert sorted(in_bank) == sorted(c.transaction_id for c in visible)
        for credit in visible:
            i = in_bank[credit.transaction_id]
            assert ledger.amount_of(i) == credit.amount and ledger.posting_date(i) == credit.date
            assert is_business_day(credit.date), "iFood credits post on business days only"
        assert all(c.transaction_id is None for c in credits if c.date >= cfg.as_of)
    assert (
        IFOOD_PAYER.legal_name == "IFOOD.COM AGENCIA DE RESTAURANTES ONLINE S.A." and IFOOD_PAYER.document == IFOOD_CNPJ
    )
    assert "IFOOD" in IFOOD_PAYER.description and "IFOOD" in IFOOD_PAYER.description_raw


# ------------------------------------------------------------------------------ calendar


@pytest.mark.parametrize("config", [WorldConfig(), E2E], ids=["default", "e2e"])
def test_the_holiday_moves_expected_dates_and_a_credit_is_late_only_by_calendar_days(config: WorldConfig) -> None:
    world = world_of(config)
    assert config.expected_payment_date(date(2026, 10, 9)) == date(2026, 10, 13)  # 10-12 is a holiday
    assert any(
        o.expected_date == date(2026, 10, 13) and o.business_date == date(2026, 10, 9)
        for o in world.facts["ifood"].orders
    )
    # A batch paid within the grace period in business days but more than GRACE_DAYS calendar days late.
    gap = [
        b
        for b in world.facts["ifood"].batches
        for c in b.credits
        if c.date < world.as_of
        and (c.date - b.expected_date).days > GRACE_DAYS
        and c.date <= add_business_days(b.expected_date, GRACE_DAYS)
        and len(b.credits) == 1
        and c.amount == b.total
    ]
    assert gap
    truth = {row["order_id"]: (row["status"], row["reason"]) for row in world.facts["ifood"].ground_truth()}
    assert any(truth[oid] == ("reconciled", None) for b in gap for oid in b.order_ids)


def ifood_reason_counts(world: World) -> Counter:
    return Counter((row["status"], row["reason"]) for row in world.facts["ifood"].ground_truth())


# ------------------------------------------------------------------------------ status mix


def test_default_mix_is_roughly_the_documented_one() -> None:
    counts = ifood_status_counts(DEFAULT)
    total = sum(counts.values())
    share = {status: n / total for status, n in counts.items()}
    cfg = DEFAULT.config
    assert 0.75 <= share["reconciled"] <= 0.88
    assert 0.06 <= share["awaiting_settlement"] <= 0.16
    assert abs(share["sales_only"] - cfg.sales_only_rate) < 0.005
    assert abs(share["cancelled"] - cfg.cancelled_rate - cfg.refund_after_payment_rate) < 0.005
    assert 0.03 <= share["divergent"] <= 0.10


COVERAGE_WORLDS = [WorldConfig(), E2E]


@pytest.mark.parametrize("config", COVERAGE_WORLDS, ids=["default", "e2e"])
def test_every_status_and_reason_occurs_in_the_coverage_worlds(config: WorldConfig) -> None:
    world = world_of(config)
    reasons = ifood_reason_counts(world)
    assert set(reasons) == set(REASONS)
    assert all(world.reason_counts()[pair] == n for pair, n in reasons.items()), "the world counts the same"
    assert {status for status, _ in reasons} == set(STATUSES)


def test_zero_rates_give_a_clean_world() -> None:
    world = World(
        WorldConfig(
            seed=3,
            sales_only_rate=0,
            cancelled_rate=0,
            divergent_rate=0,
            anticipation_rate=0,
            partial_payment_rate=0,
            refund_after_payment_rate=0,
            orphan_event_rate=0,
            unlisted_settlement_rate=0,
        )
    )
    counts = ifood_status_counts(world)
    assert set(counts) == set(STATUSES)
    assert counts["divergent"] == counts["cancelled"] == 0
    assert counts["sales_only"] == 0
    assert {fate for b in world.facts["ifood"].batches for fate in [b.fate]} <= {
        "on_time",
        "within_tolerance",
        "slightly_late",
    }
