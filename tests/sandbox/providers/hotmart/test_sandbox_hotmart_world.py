"""Hotmart's world: determinism, the rules' facts (daily deposits, commissions by role), the story's
mix, the hottok-authenticated webhooks, and that adding the sales platforms moved no gateway."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from datetime import timedelta

from served_sandbox import SMALL, world_of

from sandbox.core.payments.truth import daily_deposits
from sandbox.providers.hotmart.webhooks import HOTTOK_HEADER, deliveries
from sandbox.world import World, WorldConfig

WORLD = world_of(SMALL)
FACTS = WORLD.facts["hotmart"]

# Every existing platform's facts and ground truth, as main computed them before the sales
# platforms joined (sha256 over digest_parts / the JSON truth rows). With the sales platforms'
# orders at zero the bank ledgers are what they were, so everything must be byte-identical.
GOLDEN_SMALL = {
    "pluggy": "ec5ac9b5a983dbba0c66b9b5d386a1f44c01f005b850a0d456d23d0d437f0cc3",
    "ifood": "1c9018f551534da1bcb21134acd67f601502f0373a71f75a168284c072027023",
    "ifood:truth": "3ebab82b43a05201f3b629817fc7b75d3b8d74e6234138d14a21db75195510b7",
    "stripe": "be2a93469179a8c3d2b2037cd54cd77e61eefb775370c3e22307aaa7547562b0",
    "stripe:truth": "b2385a3f2cebf78e0c745f602de21955f6c1af79087405d4ecdf850ba0bf983b",
    "asaas": "13130a46e5da4aae52ddd1ff620d82b5cf11203c6d739f5cb8bad726482b691c",
    "asaas:truth": "ca8d5aa46a7bb1fa58775f7b51d9af403a76a54a5ed261f7046829036b7bd3dd",
    "mercadopago": "fdfaff49cf3cb955821afe68068bacb25922874153ed6a53b83f47665ed4053b",
    "mercadopago:truth": "c400c1572bc40014acd361fb26a335fa82c49520ddd1b0a084698334cc9637ab",
    "pushinpay": "569f0cf41d1207ef316d1e2a57dcaea7b1b675938f2feb372fec7be6dc5be728",
    "pushinpay:truth": "4ca1e718fee2a208560bd4230906f1bd9f0362b147de0f482a974b610d8f161a",
}


def _hash(parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
    return h.hexdigest()


def test_existing_platforms_and_gateway_truth_are_byte_identical() -> None:
    quiet = World(
        WorldConfig(
            **{**SMALL.to_dict(), "start": SMALL.start, "hotmart_orders_per_day": 0, "kiwify_orders_per_day": 0}
        )
    )
    got = {}
    for name in GOLDEN_SMALL:
        platform, _, truth = name.partition(":")
        facts = quiet.facts[platform]
        if truth:
            got[name] = _hash(json.dumps(r, sort_keys=True, default=str) for r in facts.ground_truth())
        else:
            got[name] = _hash(facts.digest_parts())
    assert got == GOLDEN_SMALL


def test_gateway_truth_with_the_sales_platforms_differs_only_in_bank_ids() -> None:
    """With sales, the bank posts more credits (their ids come from the same daily stream), so only
    the bank transaction ids of the gateways' matched credits may move; every verdict stays."""
    quiet = World(
        WorldConfig(
            **{**SMALL.to_dict(), "start": SMALL.start, "hotmart_orders_per_day": 0, "kiwify_orders_per_day": 0}
        )
    )
    for name in ("stripe", "asaas", "mercadopago", "pushinpay"):
        strip = lambda rows: [{k: v for k, v in r.items() if k != "bank_transaction_id"} for r in rows]  # noqa: E731
        assert strip(WORLD.facts[name].ground_truth()) == strip(quiet.facts[name].ground_truth())


def test_same_seed_same_facts() -> None:
    again = World(SMALL)
    assert list(again.facts["hotmart"].digest_parts()) == list(FACTS.digest_parts())
    assert again.digest() == WORLD.digest()


def test_deposits_follow_the_daily_deposit_rule() -> None:
    deposits, assigned = daily_deposits(FACTS.payments, as_of=FACTS.as_of)
    assert sorted((x.payout_id, x.amount, x.date) for x in deposits) == sorted(
        (x.payout_id, x.amount, x.date) for x in FACTS.payouts
    )
    assert all(assigned.get(p.payment_id) == p.payout_id for p in FACTS.payments)
    assert all(x.amount >= 1 for x in FACTS.payouts)


def test_the_story_has_its_mix() -> None:
    statuses = Counter(p.status for p in FACTS.payments)
    assert {"paid", "refunded", "expired", "pending"} <= set(statuses)
    reasons = Counter((r["status"], r["reason"]) for r in FACTS.ground_truth())
    assert ("RECONCILED", None) in reasons and ("DISCREPANCY", "refunded_after_payout") in reasons
    rows = FACTS.ground_truth()
    assert any(r["split_mismatch"] for r in rows) and any(r["fee_status"] == "overcharged" for r in rows)
    assert any(r["coproducer_commission"] for r in rows if r["coproducer_commission"] is not None)
    assert any(r["subscription_id"] for r in rows)
    renewals = Counter(p.subscription_id for p in FACTS.payments if p.subscription_id)
    assert max(renewals.values()) >= 2
    assert any(h.parent_transaction for h in FACTS.sales)


def test_commissions_by_role_sum_to_the_gross() -> None:
    for row in FACTS.ground_truth():
        if row["payment_status"] in ("paid", "refunded", "charged_back"):
            parts = (
                row["platform_fee"]
                + row["affiliate_commission"]
                + row["coproducer_commission"]
                + row["producer_amount"]
            )
            assert parts == row["gross_amount"]
            if not row["split_mismatch"]:
                assert row["affiliate_difference"] == row["coproducer_difference"] == row["producer_difference"] == 0


def test_contracts_export_the_coproducer_rate() -> None:
    rows = WORLD.contracts()["split_rates"]
    assert all("coproducer_rate" in r for r in rows)
    assert any(r["coproducer_rate"] != "0" for r in rows)
    assert any(r["platform"] == "hotmart" for r in WORLD.contracts()["fee_schedules"])


def test_webhooks_carry_the_hottok_and_the_2_0_0_envelope() -> None:
    account = FACTS.accounts[0]
    sent = deliveries(FACTS, account.name, now=FACTS.world_end + timedelta(days=1))
    assert sent and all(d.headers[HOTTOK_HEADER] == account.hottok for d in sent)
    assert all(hmac.compare_digest(d.headers[HOTTOK_HEADER], account.hottok) for d in sent)
    kinds = {d.event_type for d in sent}
    assert {"PURCHASE_APPROVED", "PURCHASE_COMPLETE"} <= kinds
    for d in sent:
        body = json.loads(d.body)
        assert set(body) == {"id", "creation_date", "event", "version", "data"} and body["version"] == "2.0.0"
        assert body["creation_date"] == int(d.sent_at.timestamp() * 1000)
        assert body["data"]["purchase"]["transaction"].startswith("HP")
    refunds = [d for d in sent if d.event_type == "PURCHASE_REFUNDED"]
    by_id = {p.payment_id: p for p in FACTS.payments}
    for d in refunds:
        p = by_id[json.loads(d.body)["data"]["purchase"]["transaction"]]
        assert p.refunded_at == d.sent_at
    assert len({d.event_id for d in sent}) == len(sent)
