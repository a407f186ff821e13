"""The world generator: validation, determinism, money, the status mix and the ground-truth rules."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from served_sandbox import SMALL

from sandbox.bank import KIND_IFOOD_PAYOUT, UUID_BITS
from sandbox.ids import format_uuid, is_valid_cnpj, is_valid_cpf, uuid4_int
from sandbox.truth import batch_status, is_cancellation
from sandbox.world import (
    CANCELLATION_SPELLINGS,
    DIVERGENT_REASONS,
    GRACE_DAYS,
    IFOOD_CNPJ,
    SAO_PAULO,
    STATUSES,
    World,
    WorldConfig,
)

DEFAULT = World()  # the demo's world; several tests read it


# ------------------------------------------------------------------------------------ config


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"tenants": 0}, "tenants must be between 1"),
        ({"days": -1}, "days must be between 1"),
        ({"orders_per_day": 1.5}, "orders_per_day must be a whole number"),
        ({"stores_per_tenant": True}, "stores_per_tenant must be a whole number"),
        ({"sales_only_rate": 1.2}, "sales_only_rate must be between 0 and 1"),
        ({"divergent_rate": "a lot"}, "divergent_rate must be a number"),
        ({"sales_only_rate": 0.6, "cancelled_rate": 0.6}, "must not exceed 1"),
        ({"start": "2026-10-01"}, "start must be a date"),
        ({"start": datetime(2026, 10, 1)}, "start must be a date"),
        ({"seed": None}, "seed must be a whole number"),
        ({"bank_noise_per_day": -4}, "bank_noise_per_day must be between 0"),
    ],
)
def test_bad_knobs_are_refused_with_a_clear_message(knobs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        WorldConfig(**knobs)


def test_as_of_is_the_day_after_the_last_business_day() -> None:
    assert WorldConfig(start=date(2026, 10, 1), days=30).as_of == date(2026, 10, 31)


# ------------------------------------------------------------------------------- determinism


def test_the_same_config_gives_a_byte_identical_world() -> None:
    again = World(WorldConfig())
    assert again.digest() == DEFAULT.digest()
    assert again.credentials("http://x") == DEFAULT.credentials("http://x")
    assert again.ground_truth() == DEFAULT.ground_truth()


def test_the_world_does_not_depend_on_the_process() -> None:
    """Hash randomisation differs per process; the world must not (no iteration over sets of str)."""
    script = "from sandbox.world import World, WorldConfig; print(World(WorldConfig(days=5)).digest())"
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for seed in (1, 2)
    }
    assert digests == {World(WorldConfig(days=5)).digest()}


def test_another_seed_gives_another_world_and_streams_are_independent() -> None:
    other = World(WorldConfig(seed=43))
    assert other.digest() != DEFAULT.digest()
    assert (
        other.credentials("")["tenants"][0]["pluggy"]["client_id"]
        != DEFAULT.credentials("")["tenants"][0]["pluggy"]["client_id"]
    )
    noisier = World(WorldConfig(bank_noise_per_day=9))
    assert [o.order_id for o in noisier.orders] == [o.order_id for o in DEFAULT.orders]
    assert noisier.credentials("") == DEFAULT.credentials("")


# ------------------------------------------------------------------------------- entities


def test_ids_are_well_formed_and_unique() -> None:
    stores = DEFAULT.stores
    assert [t.tenant_id for t in DEFAULT.tenants] == ["tenant-001", "tenant-002"]
    for store in stores:
        assert re.fullmatch(r"\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}", store.cnpj) and is_valid_cnpj(store.cnpj)
        for value in (store.merchant_id, store.item_id, store.account_id):
            assert uuid.UUID(value).version == 4
    assert len({s.cnpj for s in stores}) == len(stores)
    assert is_valid_cnpj(IFOOD_CNPJ)
    assert all(is_valid_cpf(c.document) for c in DEFAULT.counterparties.customers)
    order_ids = [o.order_id for o in DEFAULT.orders]
    assert len(order_ids) == len(set(order_ids))


def test_fast_uuid_path_matches_the_uuid_module() -> None:
    for bits in (0, (1 << 128) - 1, 0x0123456789ABCDEF0123456789ABCDEF):
        assert uuid4_int(bits) == uuid.UUID(int=bits, version=4).int
        assert format_uuid(uuid4_int(bits)) == str(uuid.UUID(int=bits, version=4))


def test_money_is_decimal_cents_and_timestamps_are_aware() -> None:
    for order in DEFAULT.orders[:500]:
        for amount in (order.bag, order.delivery_fee, order.service_fee, order.benefit, order.gross):
            assert isinstance(amount, Decimal) and amount.as_tuple().exponent == -2
        assert order.created_at.tzinfo is not None
        for event in order.events:
            assert isinstance(event.amount, Decimal) and event.amount.as_tuple().exponent == -2
            assert event.date_time.tzinfo is not None
            assert event.date_time >= order.created_at
    for batch in DEFAULT.batches:
        assert batch.total.as_tuple().exponent == -2
        if batch.credit_amount is not None:
            assert batch.credit_amount.as_tuple().exponent == -2


def test_orders_follow_the_story() -> None:
    cfg = DEFAULT.config
    for order in DEFAULT.orders:
        assert cfg.start <= order.business_date < cfg.as_of
        assert order.created_at.astimezone(SAO_PAULO).date() == order.business_date
        assert order.expected_date == order.business_date + timedelta(days=cfg.payout_term_days)
        names = [e.name for e in order.events]
        if order.kind == "sales_only":
            assert not order.events
            continue
        assert names[0] == "ORDER_PAYMENT" and order.events[0].amount == order.paid_by_customer
        assert "ORDER_COMMISSION" in names and "TRANSACTION_FEE" in names
        assert ("IFOOD_SUBSIDY" in names) == (order.benefit > 0)
        if order.kind == "cancelled":
            assert order.net == 0 and is_cancellation(order.events[-1])
            assert not any(is_cancellation(e) for e in order.events[:-1])
        else:
            assert order.net > 0 and not any(is_cancellation(e) for e in order.events)
    per_store_day = Counter((o.merchant_id, o.business_date) for o in DEFAULT.orders)
    assert min(per_store_day.values()) >= 0.75 * cfg.orders_per_day - 1
    assert max(per_store_day.values()) <= 1.25 * cfg.orders_per_day + 1


def test_cancellations_use_every_spelling_and_each_matches_the_keywords() -> None:
    world = World(WorldConfig(seed=5, cancelled_rate=0.02))
    used = {(o.events[-1].name, o.events[-1].description) for o in world.orders if o.kind == "cancelled"}
    assert used == set(CANCELLATION_SPELLINGS)
    for name, description in CANCELLATION_SPELLINGS:
        assert re.search(r"cancel|estorno", f"{name} {description}", re.IGNORECASE)


def test_batches_are_the_regular_orders_of_a_store_and_expected_date() -> None:
    by_id = {o.order_id: o for o in DEFAULT.orders}
    in_batches = [oid for b in DEFAULT.batches for oid in b.order_ids]
    assert sorted(in_batches) == sorted(o.order_id for o in DEFAULT.orders if o.kind == "regular")
    for batch in DEFAULT.batches:
        orders = [by_id[oid] for oid in batch.order_ids]
        assert {(o.merchant_id, o.expected_date) for o in orders} == {(batch.merchant_id, batch.expected_date)}
        assert batch.total == sum(o.net for o in orders)


def test_the_bank_ledger_is_ordered_balanced_and_holds_the_visible_credits() -> None:
    cfg = DEFAULT.config
    for store in DEFAULT.stores:
        ledger = DEFAULT.ledgers[store.account_id]
        assert ledger.keys == sorted(ledger.keys)
        assert len(ledger) >= cfg.days * cfg.bank_noise_per_day
        running = ledger.opening_balance_cents
        for amount, balance in zip(ledger.amount, ledger.balance, strict=True):
            running += amount
            assert balance == running
        days = {k >> UUID_BITS for k in ledger.keys}
        assert min(days) >= cfg.start.toordinal() and max(days) < cfg.as_of.toordinal()
        credits = {ledger.transaction_id(i): i for i, kind in enumerate(ledger.kind) if kind == KIND_IFOOD_PAYOUT}
        batches = [b for b in DEFAULT.batches if b.account_id == store.account_id]
        visible = [b for b in batches if b.credit_date is not None and b.credit_date < cfg.as_of]
        assert sorted(credits) == sorted(b.credit_transaction_id for b in visible)
        for batch in visible:
            i = credits[batch.credit_transaction_id]
            assert ledger.amount_of(i) == batch.credit_amount and ledger.posting_date(i) == batch.credit_date
        assert all(b.credit_transaction_id is None for b in batches if b not in visible)


# ------------------------------------------------------------------------------ ground truth


def test_default_mix_is_roughly_the_documented_one() -> None:
    counts = DEFAULT.status_counts()
    total = sum(counts.values())
    share = {status: n / total for status, n in counts.items()}
    cfg = DEFAULT.config
    assert 0.80 <= share["reconciled"] <= 0.90
    assert abs(share["awaiting_settlement"] - cfg.payout_term_days / cfg.days) < 0.02
    assert abs(share["sales_only"] - cfg.sales_only_rate) < 0.005
    assert abs(share["cancelled"] - cfg.cancelled_rate) < 0.005
    # One batch per reason is the floor that guarantees coverage: 3 of 120 batches ≈ 2.5 %.
    assert 0.005 <= share["divergent"] <= 0.04


@pytest.mark.parametrize(
    "config",
    [
        WorldConfig(),
        WorldConfig(seed=2026, tenants=2, stores_per_tenant=2, days=21, orders_per_day=12, bank_noise_per_day=3),
        WorldConfig(seed=1, tenants=1, stores_per_tenant=3, days=22, orders_per_day=5, bank_noise_per_day=0),
        WorldConfig(seed=99, tenants=3, stores_per_tenant=1, days=25, orders_per_day=8, payout_term_days=5),
        replace(SMALL, days=16),
    ],
)
def test_every_status_and_reason_occurs_when_there_are_enough_batches(config: WorldConfig) -> None:
    world = World(config)
    assert len(world.batches) >= 60
    reasons = world.reason_counts()
    assert {status for status, _ in reasons} == set(STATUSES)
    assert {reason for status, reason in reasons if status == "divergent"} == set(DIVERGENT_REASONS)


def test_zero_rates_give_a_clean_world() -> None:
    world = World(WorldConfig(seed=3, sales_only_rate=0, cancelled_rate=0, divergent_rate=0))
    assert set(world.status_counts()) == set(STATUSES)
    assert world.status_counts()["divergent"] == world.status_counts()["cancelled"] == 0
    assert world.status_counts()["sales_only"] == 0


@pytest.mark.parametrize(
    ("credit_day", "amount", "as_of_day", "expected"),
    [
        (0, "100.00", 10, ("reconciled", None)),
        (0, "100.10", 10, ("reconciled", None)),  # tolerance is inclusive
        (0, "99.90", 10, ("reconciled", None)),
        (0, "100.11", 10, ("divergent", "value_mismatch")),
        (GRACE_DAYS, "100.00", 10, ("reconciled", None)),  # late within grace
        (GRACE_DAYS + 1, "100.00", 10, ("divergent", "late_payment")),
        (GRACE_DAYS + 1, "100.00", GRACE_DAYS, ("awaiting_settlement", "awaiting_payment")),  # not visible yet
        (GRACE_DAYS + 1, "100.00", GRACE_DAYS + 1, ("divergent", "payment_missing")),  # invisible and past grace
        (None, None, GRACE_DAYS, ("awaiting_settlement", "awaiting_payment")),
        (None, None, GRACE_DAYS + 1, ("divergent", "payment_missing")),
    ],
)
def test_batch_rules_at_their_boundaries(
    credit_day: int | None, amount: str | None, as_of_day: int, expected: tuple[str, str | None]
) -> None:
    expected_date = date(2026, 10, 10)
    credit = expected_date + timedelta(days=credit_day) if credit_day is not None else None
    as_of = expected_date + timedelta(days=as_of_day)
    got = batch_status(Decimal("100.00"), expected_date, credit, Decimal(amount) if amount else None, as_of)
    assert got == expected


def test_truth_agrees_with_the_facts_of_every_batch() -> None:
    """Recompute each batch's status by hand from its credit and check every order of it."""
    truth = {row["order_id"]: (row["status"], row["reason"]) for row in DEFAULT.ground_truth()}
    fates_seen = Counter()
    for batch in DEFAULT.batches:
        visible = batch.credit_date is not None and batch.credit_date < DEFAULT.as_of
        statuses = {truth[oid] for oid in batch.order_ids}
        assert len(statuses) == 1
        status = statuses.pop()
        fates_seen[(batch.fate, status)] += 1
        if not visible:
            assert status[0] in ("awaiting_settlement", "divergent")
            assert (status[1] == "payment_missing") == ((DEFAULT.as_of - batch.expected_date).days > GRACE_DAYS)
        elif batch.fate in ("on_time", "within_tolerance", "slightly_late"):
            assert status == ("reconciled", None)
    assert fates_seen[("within_tolerance", ("reconciled", None))] >= 1
    assert fates_seen[("slightly_late", ("reconciled", None))] >= 1
    for order in DEFAULT.orders:
        if order.kind == "sales_only":
            assert truth[order.order_id] == ("sales_only", "no_financial_events")
        if order.kind == "cancelled":
            assert truth[order.order_id] == ("cancelled", "cancellation_event")


def test_ground_truth_rows_have_the_documented_shape() -> None:
    rows = DEFAULT.ground_truth()
    assert len(rows) == len(DEFAULT.orders)
    assert set(rows[0]) == {"tenant_id", "merchant_id", "order_id", "status", "reason"}
    rows[0]["status"] = "tampered"
    assert DEFAULT.ground_truth()[0]["status"] != "tampered", "callers get copies"


# -------------------------------------------------------------------------------- scale


def test_a_million_bank_transactions_generate_quickly_and_compactly() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    world = World(WorldConfig(tenants=1, stores_per_tenant=1, days=30, orders_per_day=10, bank_noise_per_day=33_334))
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert world.bank_transaction_count >= 1_000_000
    assert seconds < 30, f"generation took {seconds:.1f}s"
    assert peak_kib - before < 1_500_000, "generation should stay far below 4 GB"
