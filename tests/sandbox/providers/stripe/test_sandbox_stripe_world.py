"""Stripe's part of the world: determinism, its own streams, knobs, and the story the rules need
(fees against the contract, application fees against the split model, refunds before and after
payouts, chargebacks, held charges, payouts and the bank credits that pay them)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from served_sandbox import SMALL, world_of

from sandbox.core.calendar import SAO_PAULO, add_business_days, is_business_day
from sandbox.core.ids import is_valid_cnpj
from sandbox.core.money import q
from sandbox.core.payments.checkout import catalogue
from sandbox.providers.stripe.facts import StripeFacts
from sandbox.providers.stripe.generator import StripeGenerator, contracted_fee_cents
from sandbox.providers.stripe.payer import STRIPE_CNPJ, STRIPE_PAYER
from sandbox.world import World, WorldConfig

DEFAULT = WorldConfig()


def _facts(world: World) -> StripeFacts:
    facts = world.facts["stripe"]
    assert isinstance(facts, StripeFacts)
    return facts


def test_same_seed_same_world_and_digest() -> None:
    again, other = World(SMALL), World(WorldConfig(**{**SMALL.to_dict(), "start": SMALL.start, "seed": 8}))
    first = world_of(SMALL)
    assert again.digest() == first.digest()
    assert list(_facts(again).digest_parts()) == list(_facts(first).digest_parts())
    assert _facts(other).charges[0].charge_id != _facts(first).charges[0].charge_id


def test_sign_up_draws_nothing_from_the_shared_stream() -> None:
    rng = random.Random(5)
    state = rng.getstate()
    credentials = StripeGenerator(SMALL).sign_up("tenant-001", rng)
    assert rng.getstate() == state
    assert credentials == StripeGenerator(SMALL).sign_up("tenant-001", random.Random(9))
    assert credentials.client_id.startswith("ca_") and credentials.client_secret.startswith("sk_test_51")


def test_other_platforms_do_not_move_with_stripe_s_knobs() -> None:
    base = world_of(SMALL)
    busier = World(WorldConfig(**{**SMALL.to_dict(), "start": SMALL.start, "stripe_orders_per_day": 2}))
    # iFood's orders and merchants stay; the bank ledger's own draws (transaction ids) move with the
    # credits any platform posts into it, which is the bank's business, not iFood's facts
    assert busier.facts["ifood"].orders == base.facts["ifood"].orders
    assert busier.facts["ifood"].merchants == base.facts["ifood"].merchants
    assert [s.cnpj for s in busier.stores] == [s.cnpj for s in base.stores]
    assert len(_facts(busier).charges) < len(_facts(base).charges)


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"stripe_orders_per_day": -1}, "stripe_orders_per_day must be between 0 and 100,000, got -1"),
        ({"stripe_card_release_days": 0}, "stripe_card_release_days must be between 1 and 365, got 0"),
        ({"stripe_pix_release_days": 61}, "stripe_pix_release_days must be between 0 and 60, got 61"),
        ({"stripe_held_rate": 1.5}, "stripe_held_rate must be between 0 and 1, got 1.5"),
        ({"refund_rate": -0.1}, "refund_rate must be between 0 and 1, got -0.1"),
    ],
)
def test_bad_knobs_are_refused_by_name(knobs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorldConfig(**knobs)


def test_no_orders_no_stripe_facts() -> None:
    world = World(WorldConfig(**{**SMALL.to_dict(), "start": SMALL.start, "stripe_orders_per_day": 0}))
    facts = _facts(world)
    assert facts.charges == () and facts.payouts == () and facts.credits == ()
    assert len(facts.accounts) == len(world.stores)


def test_charges_are_business_day_checkout_orders_paid_by_card_or_pix() -> None:
    world = world_of(DEFAULT)
    facts = _facts(world)
    assert {c.order.method for c in facts.charges} == {"card", "pix"}
    assert all(is_business_day(c.order.order_date) for c in facts.charges)
    assert {c.order.installments for c in facts.charges if c.order.method == "pix"} == {1}
    assert max(c.order.installments for c in facts.charges) > 6
    products = {
        p.product_id
        for t in world.tenants
        for p in catalogue(DEFAULT.seed, t.tenant_id, DEFAULT.start, DEFAULT.days).products
    }
    assert {c.order.product_id for c in facts.charges} <= products
    assert all(c.created.astimezone(SAO_PAULO).date() < DEFAULT.as_of for c in facts.charges)


def test_the_story_covers_what_the_rules_tell_apart() -> None:
    world = world_of(DEFAULT)
    facts = _facts(world)
    statuses = Counter(p.status for p in facts.payments)
    assert set(statuses) == {"paid", "failed", "refunded", "pending", "charged_back"}
    refunded = [p for p in facts.payments if p.status == "refunded"]
    payout_day = {x.payout_id: x.date for x in facts.payouts}
    after = [
        p for p in refunded if p.payout_id and p.refunded_at.astimezone(SAO_PAULO).date() > payout_day[p.payout_id]
    ]
    before = [p for p in refunded if p not in after]
    assert after and before
    held = [c for c in facts.charges if c.held]
    assert held and all(p.payout_id is None for p in facts.payments if p.payment_id in {c.charge_id for c in held})
    assert all(
        add_business_days(p.expected_release, 3) < DEFAULT.as_of
        for p in facts.payments
        if p.payment_id in {c.charge_id for c in held}
    )
    awaiting = [p for p in facts.payments if p.status == "paid" and p.expected_release >= DEFAULT.as_of]
    assert awaiting, "cards released after the world's end"
    pending = [c for c in facts.charges if c.status == "pending"]
    assert pending and all(c.order.method == "pix" for c in pending)


def test_fees_follow_the_contract_but_for_the_overcharged() -> None:
    world = world_of(DEFAULT)
    facts = _facts(world)
    over = exact = 0
    for p in facts.payments:
        if p.status not in ("paid", "refunded", "charged_back"):
            assert p.fee == p.split_withheld == 0 and p.payout_id is None
            continue
        rows = [r for r in facts.fee_schedules if r.tenant_id == p.tenant_id]
        contracted = (
            Decimal(
                contracted_fee_cents(rows, p.method, p.installments, p.paid_at.astimezone(SAO_PAULO).date(), p.gross)
            )
            / 100
        )
        assert p.fee >= contracted
        if p.fee - contracted > Decimal("0.01"):
            over += 1
        else:
            assert p.fee == contracted
            exact += 1
    assert 0 < over < exact
    changed = [r for r in facts.fee_schedules if r.valid_to is not None]
    assert len(changed) == 1 and changed[0].method == "card" and changed[0].installments_to == 1
    successor = [r for r in facts.fee_schedules if r.valid_from == changed[0].valid_to + timedelta(days=1)]
    assert len(successor) == 1 and successor[0].percent_fee < changed[0].percent_fee
    tenant = changed[0].tenant_id
    days = {
        p.paid_at.astimezone(SAO_PAULO).date()
        for p in facts.payments
        if p.tenant_id == tenant and p.paid_at and p.method == "card" and p.installments == 1
    }
    assert min(days) <= changed[0].valid_to < max(days), "the change falls inside the world"
    assert {r["platform"] for r in world.contracts()["fee_schedules"]} >= {"stripe"}
    assert len(world.contracts()["split_rates"]) >= 3 * len(world.tenants)


def test_application_fees_are_the_platform_fee_but_for_the_mismatched() -> None:
    world = world_of(DEFAULT)
    facts = _facts(world)
    cats = {t.tenant_id: catalogue(DEFAULT.seed, t.tenant_id, DEFAULT.start, DEFAULT.days) for t in world.tenants}
    mismatched = matched = 0
    for p in facts.payments:
        if p.paid_at is None:
            continue
        rate = cats[p.tenant_id].rates_on(p.order.product_id, p.paid_at.astimezone(SAO_PAULO).date()).platform_fee_rate
        model = q(p.gross * rate)
        if abs(p.split_withheld - model) > Decimal("0.01"):
            mismatched += 1
        else:
            assert p.split_withheld == model
            matched += 1
    assert 0 < mismatched < matched


def test_payouts_are_paid_into_the_store_s_account_by_stripe() -> None:
    world = world_of(DEFAULT)
    facts = _facts(world)
    assert is_valid_cnpj(STRIPE_CNPJ) and "STRIPE" in STRIPE_PAYER.description
    assert all(is_business_day(x.date) and x.amount > 0 for x in facts.payouts)
    by_payout = Counter()
    for ledger in world.ledgers.values():
        for credit in ledger.payouts:
            if credit.payer == STRIPE_PAYER:
                by_payout[credit.payout] += 1
    assert set(by_payout) <= {x.payout_id for x in facts.payouts}
    assert len(by_payout) >= len([x for x in facts.payouts if x.date < DEFAULT.as_of]) * 0.8
    account_of = {a.account_id: a for a in facts.accounts}
    for x in facts.payouts:
        payout = facts.payout_by_id[x.payout_id]
        assert account_of[payout.account_id].store.account_id == x.bank_account_id
        assert sum(facts.txn_by_id[t].net for t in payout.paid_txns) == int(x.amount * 100)
    assert {c.bank_account_id for c in facts.credits} <= {s.account_id for s in world.stores}
    assert len({c.transaction_id for c in facts.credits}) == len(facts.credits) > 0
