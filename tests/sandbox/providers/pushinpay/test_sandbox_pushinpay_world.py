"""PushinPay's part of the world: determinism, credentials, the story's fates, contracts, sweeps and payouts."""

from __future__ import annotations

import random
import re
import zlib
from collections import Counter, defaultdict
from dataclasses import fields
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from served_sandbox import SMALL, world_of

from sandbox.core.bank import KIND_PAYOUT
from sandbox.core.calendar import SAO_PAULO, is_business_day
from sandbox.core.ids import is_valid_cnpj
from sandbox.core.money import from_cents, q
from sandbox.core.payments.knobs import CheckoutKnobs
from sandbox.providers.pushinpay.generator import PushinpayGenerator, affiliate_commission
from sandbox.providers.pushinpay.knobs import PushinpayKnobs
from sandbox.providers.pushinpay.payer import PUSHINPAY_CNPJ, PUSHINPAY_LEGAL_NAME, PUSHINPAY_PAYER
from sandbox.world import World, WorldConfig

WORLD = world_of(SMALL)
FACTS = WORLD.facts["pushinpay"]


def test_the_same_config_gives_the_same_pushinpay_world_and_another_seed_another() -> None:
    again = World(SMALL)
    assert list(again.facts["pushinpay"].digest_parts()) == list(FACTS.digest_parts())
    assert again.digest() == WORLD.digest()
    other = World(WorldConfig(**{**SMALL.to_dict(), "start": SMALL.start, "seed": 8}))
    assert list(other.facts["pushinpay"].digest_parts()) != list(FACTS.digest_parts())


def test_sign_up_leaves_the_shared_parties_stream_alone() -> None:
    rng = random.Random(5)
    before = rng.getstate()
    credentials = PushinpayGenerator(SMALL).sign_up("tenant-001", rng)
    assert rng.getstate() == before
    assert credentials == PushinpayGenerator(SMALL).sign_up("tenant-001", random.Random(6))


def test_pushinpay_knobs_are_prefixed_and_checked() -> None:
    own = [f.name for f in fields(PushinpayKnobs) if f.name not in {g.name for g in fields(CheckoutKnobs)}]
    assert own and all(name.startswith("pushinpay_") for name in own)
    for knobs, message in [
        ({"pushinpay_orders_per_day": -1}, "pushinpay_orders_per_day must be between"),
        ({"pushinpay_release_days": 1.5}, "pushinpay_release_days must be a whole number"),
        ({"pushinpay_unpaid_status": "cancelled"}, "pushinpay_unpaid_status must be one of canceled, expired"),
        ({"pushinpay_webhook_encoding": "xml"}, "pushinpay_webhook_encoding must be one of json, form, mixed"),
        ({"pushinpay_charge_ttl_hours": 0}, "pushinpay_charge_ttl_hours must be between"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            WorldConfig(**knobs)


def test_credentials_are_one_integration_per_store_account() -> None:
    for tenant in WORLD.tenants:
        listed = FACTS.tenant_credentials(tenant)
        assert list(listed) == ["accounts"]
        accounts = listed["accounts"]
        assert [a["store"] for a in accounts] == [s.name for s in tenant.stores]
        for entry, store in zip(accounts, tenant.stores, strict=True):
            assert list(entry) == ["name", "token", "payout_documents", "webhook_secret", "store"]
            assert entry["payout_documents"] == [store.cnpj]
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry["name"])
            token_id, _, rest = entry["token"].partition("|")
            assert token_id.isdigit() and re.fullmatch(r"[A-Za-z0-9]{40}[0-9a-f]{8}", rest)
            assert rest[40:] == f"{zlib.crc32(rest[:40].encode()):08x}", "Sanctum's CRC32 suffix"
            assert re.fullmatch(r"[A-Za-z0-9]{32}", entry["webhook_secret"])
    assert len({a.token for a in FACTS.accounts}) == len(FACTS.accounts) == len(WORLD.stores)


def test_charges_follow_the_story() -> None:
    cfg = WORLD.config
    statuses = Counter(p.status for p in FACTS.payments)
    # no failed or charged-back PIX; charges still unpaid were never notified: not payments the warehouse knows
    assert set(statuses) == {"paid", "refunded", "expired"}
    unpaid = [c for c in FACTS.charges if c.state_at(FACTS.world_end)[0] == "created"]
    assert unpaid and not {c.id for c in unpaid} & {p.payment_id for p in FACTS.payments}
    for charge in FACTS.charges:
        order = charge.order
        assert order.method == "pix" and is_business_day(order.order_date)
        assert charge.value == int(order.gross * 100) >= 50
        if charge.paid_at is not None:
            assert timedelta(seconds=20) <= charge.paid_at - charge.created_at <= timedelta(minutes=15)
            assert charge.paid_at.astimezone(SAO_PAULO).date() == order.order_date
            if charge.refunded_at is not None:
                release_start = datetime.combine(charge.release, time(), SAO_PAULO)
                assert charge.paid_at < charge.refunded_at < min(release_start, FACTS.world_end), (
                    "refunds precede release"
                )
        else:
            assert charge.expires_at - charge.created_at == timedelta(hours=cfg.pushinpay_charge_ttl_hours)
            assert charge.unpaid_status == "canceled"
        for at, _ in charge.changes():
            assert at.utcoffset() is not None
    pending = [c for c in FACTS.charges if c.state_at(FACTS.world_end)[0] == "created"]
    assert pending and all(c.expires_at > FACTS.world_end for c in pending)


def test_splits_pay_the_affiliates_commission_with_some_mismatches() -> None:
    from sandbox.core.payments.checkout import catalogue

    catalogues = {t.tenant_id: catalogue(SMALL.seed, t.tenant_id, SMALL.start, SMALL.days) for t in WORLD.tenants}
    mismatched = 0
    for charge in FACTS.charges:
        order = charge.order
        assert bool(charge.split_rules) == bool(order.affiliate_id)
        if not order.affiliate_id:
            continue
        (rule,) = charge.split_rules
        assert re.fullmatch(r"[0-9A-F-]{36}", rule.account_id) and 1 <= rule.value <= charge.value // 2
        model = affiliate_commission(catalogues[charge.tenant_id], order, order.order_date)
        if rule.value != model:
            mismatched += 1
            assert abs(rule.value - model) >= 2, "a mismatch is beyond the split tolerance"
    assert 1 <= mismatched < sum(1 for c in FACTS.charges if c.split_rules) / 2
    same = defaultdict(set)
    for charge in FACTS.charges:
        if charge.order.affiliate_id:
            same[(charge.tenant_id, charge.order.affiliate_id)].add(charge.split_rules[0].account_id)
    assert all(len(ids) == 1 for ids in same.values()), "one PushinPay account per affiliate"


def test_fees_come_from_the_contract_which_changes_mid_world_for_one_tenant() -> None:
    rows = FACTS.fee_schedules
    assert {r.platform for r in rows} == {"pushinpay"} and {r.method for r in rows} == {"pix"}
    assert all(r.release_days == SMALL.pushinpay_release_days for r in rows)
    by_tenant = Counter(r.tenant_id for r in rows)
    assert sorted(by_tenant.values()) == [1] * (len(WORLD.tenants) - 1) + [2]
    changed = [r for r in rows if by_tenant[r.tenant_id] == 2]
    assert changed[0].valid_to + timedelta(days=1) == changed[1].valid_from and changed[1].valid_to is None
    assert (changed[0].percent_fee, changed[0].fixed_fee) != (changed[1].percent_fee, changed[1].fixed_fee)
    both_sides = {r.valid_to is None for r in changed for p in FACTS.payments if p.tenant_id == r.tenant_id}
    assert both_sides == {True, False}
    contracts = WORLD.contracts()
    assert [r for r in contracts["fee_schedules"] if r["platform"] == "pushinpay"] == [r.to_dict() for r in rows]
    assert all(r.to_dict() in contracts["split_rates"] for r in FACTS.split_rates)
    assert {r.tenant_id for r in FACTS.split_rates} == {t.tenant_id for t in WORLD.tenants}


def test_sweeps_pay_the_released_net_less_over_charges_by_pix_from_pushinpay() -> None:
    assert is_valid_cnpj(PUSHINPAY_CNPJ) and PUSHINPAY_PAYER.legal_name == PUSHINPAY_LEGAL_NAME
    assert PUSHINPAY_PAYER.method == "PIX" and "PUSHIN PAY" in PUSHINPAY_PAYER.description
    charges = {c.id: c for c in FACTS.charges}
    credits_by_payout = defaultdict(list)
    for account_id, ledger in WORLD.ledgers.items():
        for credit in ledger.payouts:
            if credit.payer is PUSHINPAY_PAYER:
                assert credit.account_id == account_id
                credits_by_payout[credit.payout].append(credit)
    assert {c.transaction_id for c in FACTS.credits} <= {
        ledger.transaction_id(i)
        for ledger in WORLD.ledgers.values()
        for i in range(len(ledger))
        if ledger.kind[i] == KIND_PAYOUT
    }
    overcharged = exact = 0
    for payout in FACTS.payouts:
        members = [p for p in FACTS.payments if p.payout_id == payout.payout_id]
        assert members and all(p.status == "paid" and p.expected_release == payout.date for p in members)
        assert payout.amount == sum((p.net for p in members), Decimal("0.00")) and payout.date < FACTS.as_of
        assert is_business_day(payout.date)
        kept = sum(charges[p.payment_id].overcharge for p in members)
        overcharged += kept > 0
        paid = credits_by_payout.get(payout.payout_id, [])
        if len(paid) == 1 and paid[0].posting_date == payout.date:
            exact += from_cents(paid[0].cents) == payout.amount - from_cents(kept)
    assert overcharged >= 1 and exact >= len(FACTS.payouts) // 2
    for charge in FACTS.charges:
        if charge.overcharge:
            assert 20 <= charge.overcharge <= 300 and charge.refunded_at is None


def test_the_generic_payments_say_what_the_rules_read() -> None:
    by_id = {c.id: c for c in FACTS.charges}
    for payment in FACTS.payments:
        charge = by_id[payment.payment_id]
        assert payment.payment_id == charge.id and payment.platform == "pushinpay"
        assert payment.gross == from_cents(charge.value) and payment.split_withheld == from_cents(charge.split_total)
        took_money = payment.status in ("paid", "refunded")
        assert payment.fee == (from_cents(charge.contracted_fee) if took_money else 0)
        assert payment.fee == q(payment.fee)
        assert (payment.expected_release is not None) == took_money
    assert FACTS.summary() == {"pushinpay_charges": len(FACTS.charges), "pushinpay_payouts": len(FACTS.payouts)}
