"""Mercado Pago's part of the world: the rules' generic facts are what the wire says, read the way the
rules table reads it; payouts, bank credits, fee contracts and splits; credentials; determinism."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from served_sandbox import SMALL, Served, pluggy_key, world_of

from sandbox.core.calendar import SAO_PAULO, is_business_day
from sandbox.core.ids import digits_only
from sandbox.core.money import q
from sandbox.core.payments.checkout import catalogue
from sandbox.options import ServerOptions
from sandbox.providers.mercadopago.facts import MercadoPagoFacts
from sandbox.providers.mercadopago.fees import change_day, contracted_fee
from sandbox.providers.mercadopago.generator import MercadoPagoGenerator
from sandbox.providers.mercadopago.payer import MERCADOPAGO_CNPJ, MERCADOPAGO_PAYER
from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig

NAME = "mercadopago"
SEARCH = f"/{NAME}/v1/payments/search"
CANONICAL = {
    "charged_back": "charged_back",
    "refunded": "refunded",
    "approved": "paid",
    "pending": "pending",
    "in_process": "pending",
    "authorized": "pending",
    "cancelled": "expired",
    "rejected": "failed",
}
# Every fate, card payouts (short card release), pending payments on the last day (as_of is the
# Tuesday after a business Monday), and the contract change in the middle of the world.
COVER = WorldConfig(
    seed=11,
    tenants=2,
    stores_per_tenant=1,
    start=date(2026, 9, 1),
    days=14,
    orders_per_day=3,
    bank_noise_per_day=2,
    mercadopago_orders_per_day=14,
    mercadopago_card_release_days=3,
    mercadopago_review_rate=0.5,
    refund_rate=0.25,
    chargeback_rate=0.2,
    payment_expired_rate=0.2,
    payment_failed_rate=0.1,
    overcharge_rate=0.2,
    split_mismatch_rate=0.2,
    payout_fault_rate=0.3,
)


def facts_of(world: World) -> MercadoPagoFacts:
    facts = world.facts[NAME]
    assert isinstance(facts, MercadoPagoFacts)
    return facts


@pytest.fixture(scope="module")
def cover() -> Iterator[Served]:
    world = world_of(COVER)
    base_url, stop = start_in_thread(world, port=0, options=ServerOptions().with_rate_limit(None))
    yield Served(base_url, world, world.credentials(base_url))
    stop()


def every_payment(http: httpx.Client, entry: dict[str, Any]) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {entry['access_token']}"}
    rows: list[dict[str, Any]] = []
    while True:
        params = {"begin_date": "NOW-3MONTHS", "sort": "id", "criteria": "asc", "offset": len(rows), "limit": 50}
        body = json.loads(http.get(SEARCH, params=params, headers=headers).text, parse_float=Decimal)
        rows += body["results"]
        if len(rows) >= body["paging"]["total"]:
            return rows


def sp_date(text: str) -> date:
    return datetime.fromisoformat(text).astimezone(SAO_PAULO).date()


def read_by_the_rules(rows: list[dict[str, Any]], integration: str, as_of: date) -> tuple[dict, dict]:
    """An independent reading of the wire with the rules' Mercado Pago column: canonical payments and payouts."""
    payments: dict[str, dict[str, Any]] = {}
    for row in rows:
        fees = row["fee_details"]
        gross = Decimal(row["transaction_amount"])
        fee = sum((Decimal(f["amount"]) for f in fees if f["type"] != "application_fee"), Decimal("0"))
        split = sum((Decimal(f["amount"]) for f in fees if f["type"] == "application_fee"), Decimal("0"))
        status = CANONICAL[row["status"]]
        release = sp_date(row["money_release_date"]) if row["money_release_date"] else None
        refunded_at = max((datetime.fromisoformat(r["date_created"]) for r in row["refunds"]), default=None)
        refunded_day = refunded_at.astimezone(SAO_PAULO).date() if refunded_at else None
        released = (
            status not in ("pending", "failed", "expired")
            and release is not None
            and release < as_of
            and not (refunded_day is not None and refunded_day <= release)
        )
        payments[str(row["id"])] = {
            "status": status,
            "gross": gross,
            "fee": fee,
            "split_withheld": split,
            "net": gross - fee - split,
            "stated_net": Decimal(row["transaction_details"]["net_received_amount"]),
            "paid_at": datetime.fromisoformat(row["date_approved"]) if row["date_approved"] else None,
            "expected_release": release,
            "refunded_at": refunded_at,
            "payout_id": f"{NAME}:{integration}:{release}" if released else None,
            "refunds": [(sp_date(r["date_created"]), Decimal(r["amount"])) for r in row["refunds"]],
        }
    payouts: dict[str, Decimal] = {}
    for p in payments.values():
        if p["payout_id"]:
            payouts[p["payout_id"]] = payouts.get(p["payout_id"], Decimal("0")) + p["net"]
    for p in payments.values():
        if p["payout_id"] and p["status"] == "refunded":
            for day, amount in p["refunds"]:
                payouts[f"{NAME}:{integration}:{day}"] -= amount  # a day with releases, after its own
    return payments, payouts


@pytest.mark.parametrize("which", ["small", "cover"])
def test_generic_facts_are_the_wire_read_by_the_rules(which: str, request: pytest.FixtureRequest) -> None:
    served: Served = request.getfixturevalue("served" if which == "small" else "cover")
    world = served.world
    facts = facts_of(world)
    by_id = {p.payment_id: p for p in facts.payments}
    payouts = {x.payout_id: x for x in facts.payouts}
    seen_payments, seen_payouts = 0, 0
    with httpx.Client(base_url=served.base_url, timeout=30) as http:
        for tenant in served.credentials["tenants"]:
            for entry in tenant[NAME]["accounts"]:
                read, read_payouts = read_by_the_rules(every_payment(http, entry), entry["name"], world.as_of)
                for payment_id, wire in read.items():
                    fact = by_id[payment_id]
                    assert fact.integration == entry["name"] and fact.tenant_id == tenant["tenant_id"]
                    for key in ("status", "gross", "fee", "split_withheld", "net", "paid_at"):
                        assert getattr(fact, key) == wire[key], (payment_id, key)
                    assert fact.expected_release == (
                        wire["expected_release"] if fact.status in ("paid", "refunded", "charged_back") else None
                    )
                    assert (fact.refunded_at, fact.payout_id) == (wire["refunded_at"], wire["payout_id"])
                    if wire["status"] in ("paid", "refunded", "charged_back"):
                        assert wire["stated_net"] == wire["net"], "MP's own net agrees with the computed one"
                for payout_id, amount in read_payouts.items():
                    assert payouts[payout_id].amount == amount > 0
                    assert payouts[payout_id].date == date.fromisoformat(payout_id.rsplit(":", 1)[1])
                    assert payouts[payout_id].bank_account_id == facts.account_by_name[entry["name"]].store.account_id
                seen_payments += len(read)
                seen_payouts += len(read_payouts)
    assert seen_payments == len(facts.payments) and seen_payouts == len(facts.payouts) > 0


def test_the_cover_world_holds_every_fate(cover: Served) -> None:
    facts = facts_of(cover.world)
    as_of = cover.world.as_of
    mp = Counter((p.status, p.status_detail) for p in facts.mp_payments)
    for pair in (
        ("approved", "accredited"),
        ("pending", "pending_waiting_transfer"),
        ("in_process", "pending_review_manual"),
        ("cancelled", "expired"),
        ("refunded", "refunded"),
        ("charged_back", "settled"),
    ):
        assert mp[pair] > 0, pair
    assert any(p.status == "rejected" for p in facts.mp_payments)
    assert set(Counter(p.status for p in facts.payments)) == {
        "paid",
        "pending",
        "failed",
        "expired",
        "refunded",
        "charged_back",
    }
    refunded = [p for p in facts.mp_payments if p.status == "refunded"]
    after = [p for p in refunded if p.released]
    before = [p for p in refunded if not p.released]
    assert after and before, "refunds both after and before the release"
    for p in after:
        assert p.release_date < p.refunds[0].created_at.astimezone(SAO_PAULO).date() < as_of
    for p in before:
        assert p.refunds[0].created_at.astimezone(SAO_PAULO).date() < min(p.release_date, as_of)
    for p in facts.mp_payments:
        if p.status == "charged_back":
            assert p.release_date >= as_of and not p.released, "charged back before its release"
            assert p.approved_at < p.charged_back_at < datetime.combine(as_of, time(), SAO_PAULO)
        if p.release_at is not None:
            assert is_business_day(p.release_date)
    assert any(p.payment_type_id == "credit_card" and p.released for p in facts.mp_payments), "card payouts"
    assert all(x.amount > 0 and is_business_day(x.date) and x.date < as_of for x in facts.payouts)


def test_fees_follow_the_contract_but_the_overcharges_and_splits_the_catalogue_but_the_mismatches(
    cover: Served,
) -> None:
    world = cover.world
    facts = facts_of(world)
    rows = {t.tenant_id: tuple(r for r in facts.fee_schedules if r.tenant_id == t.tenant_id) for t in world.tenants}
    assert {(r.method, r.installments_from, r.installments_to) for r in facts.fee_schedules} == {
        ("pix", 1, 1),
        ("card", 1, 1),
        ("card", 2, 6),
        ("card", 7, 12),
    }
    change = change_day(world.config)
    first = world.tenants[0].tenant_id
    assert {r.valid_to for r in rows[first] if r.method == "card"} == {None, change - timedelta(days=1)}
    over = mismatched = 0
    for p in facts.payments:
        if p.status not in ("paid", "refunded", "charged_back"):
            assert p.fee == p.split_withheld == 0
            continue
        day = p.paid_at.astimezone(SAO_PAULO).date()
        contracted = contracted_fee(rows[p.tenant_id], p.method, p.installments, day, p.gross)
        assert p.fee >= contracted
        over += p.fee - contracted > Decimal("0.01")
        assert p.fee - contracted != Decimal("0.01"), "an over-charge is beyond the tolerance"
        shop = catalogue(world.config.seed, p.tenant_id, world.config.start, world.config.days)
        platform_fee = q(p.gross * shop.rates_on(p.order.product_id, day).platform_fee_rate)
        mismatched += abs(p.split_withheld - platform_fee) > Decimal("0.01")
        assert p.split_withheld > 0 and p.net > 0
    assert over > 0 and mismatched > 0
    renegotiated = [
        p
        for p in facts.payments
        if p.tenant_id == first
        and p.method == "card"
        and p.paid_at
        and p.paid_at.astimezone(SAO_PAULO).date() >= change
    ]
    assert renegotiated, "card sales after the change use the lower rate"
    assert {r.to_dict()["platform"] for r in facts.fee_schedules} == {NAME}
    assert facts.contract_rows()["split_rates"] == [r.to_dict() for r in facts.split_rates]


def test_withdrawals_reach_the_stores_banks_from_mercado_pago(cover: Served) -> None:
    world = cover.world
    facts = facts_of(world)
    posted = {c.transaction_id: c for c in facts.credits}
    assert posted, "credits posted in the bank"
    exact = 0
    for payout in facts.payouts:
        ledger = world.ledgers[payout.bank_account_id]
        mine = [c for c in ledger.payouts if c.payout == payout.payout_id]
        assert all(c.payer == MERCADOPAGO_PAYER and c.posting_date >= payout.date for c in mine)
        exact += [(c.posting_date, c.cents) for c in mine] == [(payout.date, int(payout.amount * 100))]
    assert exact >= len(facts.payouts) * 0.6 and exact < len(facts.payouts), "most on time, some faulted"
    with httpx.Client(base_url=cover.base_url, timeout=30) as http:
        headers = pluggy_key(http, cover)
        store = world.stores[0]
        account_id = store.account_id
        rows, after = [], None
        while True:
            params = {"accountId": account_id, **({"after": after} if after else {})}
            body = http.get("/pluggy/v2/transactions", params=params, headers=headers).json()
            rows += body["results"]
            if body["next"] is None:
                break
            after = dict(httpx.QueryParams(body["next"].lstrip("?")))["after"]
    from_mp = [r for r in rows if "MERCADO PAGO" in r["description"]]
    mine = sorted((c.date.isoformat(), c.amount) for c in facts.credits if c.bank_account_id == account_id)
    assert sorted((r["date"][:10], Decimal(str(r["amount"]))) for r in from_mp) == mine
    assert all(r["type"] == "CREDIT" for r in from_mp)
    with_data = [r for r in from_mp if r["paymentData"]]
    assert all(r["paymentData"]["payer"]["documentNumber"]["value"] == MERCADOPAGO_CNPJ for r in with_data)


# ------------------------------------------------------------------------------ credentials, determinism


def test_credentials_are_one_integration_per_store_account(small_world: World) -> None:
    facts = facts_of(small_world)
    names = [a.name for a in facts.accounts]
    assert len(set(names)) == len(names) == len(small_world.stores)
    for tenant in small_world.tenants:
        entries = small_world.credentials("http://x")["tenants"][small_world.tenants.index(tenant)][NAME]["accounts"]
        assert [e["store"] for e in entries] == [s.name for s in tenant.stores]
        for entry, store in zip(entries, tenant.stores, strict=True):
            assert list(entry) == ["name", "access_token", "payout_documents", "webhook_secret", "store"]
            assert entry["payout_documents"] == [digits_only(store.cnpj)]
            head, app_id, stamp, hex32, user = entry["access_token"].split("-")
            assert head == "APP_USR" and app_id == tenant.credentials[NAME].client_id and len(app_id) == 16
            assert len(stamp) == 6 and stamp.isdigit() and len(hex32) == 32 and int(hex32, 16) >= 0
            assert int(user) == facts.account_by_name[entry["name"]].collector_id
            assert len(entry["webhook_secret"]) == 64 and int(entry["webhook_secret"], 16) >= 0


def test_signing_up_draws_nothing_from_the_shared_parties_stream() -> None:
    rng = random.Random(5)
    state = rng.getstate()
    credentials = MercadoPagoGenerator(SMALL).sign_up("tenant-001", rng)
    assert rng.getstate() == state
    assert credentials == MercadoPagoGenerator(SMALL).sign_up("tenant-001", random.Random(99))


def test_same_seed_same_world_another_seed_another(small_world: World) -> None:
    again = World(SMALL)
    assert again.digest() == small_world.digest()
    assert list(facts_of(again).digest_parts()) == list(facts_of(small_world).digest_parts())
    other = world_of(WorldConfig(**{**SMALL.to_dict(), "start": SMALL.start, "seed": SMALL.seed + 1}))
    assert [p.payment_id for p in facts_of(other).mp_payments] != [
        p.payment_id for p in facts_of(small_world).mp_payments
    ]
    # the other platforms' facts do not depend on Mercado Pago's knobs
    busier = world_of(WorldConfig(**{**SMALL.to_dict(), "start": SMALL.start, "mercadopago_orders_per_day": 3}))
    assert [o.order_id for o in busier.facts["ifood"].orders] == [o.order_id for o in small_world.facts["ifood"].orders]
    assert busier.stores == small_world.stores


def test_knobs_are_validated() -> None:
    for bad in (
        {"mercadopago_orders_per_day": -1},
        {"mercadopago_card_release_days": 500},
        {"mercadopago_pix_release_days": 9},
        {"mercadopago_review_rate": 1.5},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            WorldConfig(**bad)
    assert WorldConfig(mercadopago_card_release_days=14).mercadopago_card_rate == Decimal("4.49")
    assert WorldConfig(mercadopago_card_release_days=0).mercadopago_card_rate == Decimal("4.98")
