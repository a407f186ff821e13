"""Kiwify's world: determinism, the payout-by-date rule, the story's mix, and HMAC-SHA1 signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from datetime import timedelta

from served_sandbox import SMALL, world_of

from sandbox.core.payments.truth import payouts_by_date
from sandbox.core.webhooks import Delivery
from sandbox.providers.kiwify.webhooks import SIGNATURE_PARAM, deliveries
from sandbox.world import World

WORLD = world_of(SMALL)
FACTS = WORLD.facts["kiwify"]


def test_same_seed_same_facts() -> None:
    again = World(SMALL)
    assert list(again.facts["kiwify"].digest_parts()) == list(FACTS.digest_parts())


def test_payouts_follow_the_payout_by_date_rule() -> None:
    assigned = payouts_by_date(FACTS.payments, FACTS.payouts, as_of=FACTS.as_of)
    assert all(assigned.get(p.payment_id) == p.payout_id for p in FACTS.payments)
    assert len({(x.integration, x.date) for x in FACTS.payouts}) == len(FACTS.payouts)


def test_the_story_has_its_mix() -> None:
    statuses = Counter(p.status for p in FACTS.payments)
    assert {"paid", "failed", "pending"} <= set(statuses)
    assert "expired" not in statuses  # Kiwify lets an unpaid PIX or boleto lapse as refused
    renewals = Counter(p.subscription_id for p in FACTS.payments if p.subscription_id)
    assert renewals and max(renewals.values()) >= 2
    rows = FACTS.ground_truth()
    assert set(FACTS.truth_columns) == set(rows[0])


def _verify(delivery: Delivery, secret: str) -> bool:
    expected = hmac.new(secret.encode(), delivery.body, hashlib.sha1).hexdigest()
    return hmac.compare_digest(delivery.query[SIGNATURE_PARAM], expected)


def test_webhooks_are_signed_with_the_token_in_the_query() -> None:
    account = FACTS.accounts[0]
    other = FACTS.accounts[1]
    sent = deliveries(FACTS, account.name, now=FACTS.world_end + timedelta(days=1))
    assert sent and all(_verify(d, account.webhook_secret) for d in sent)
    assert not any(_verify(d, other.webhook_secret) for d in sent)
    assert all(
        len(d.query[SIGNATURE_PARAM]) == 40 and d.url("http://x/hook").startswith("http://x/hook?signature=")
        for d in sent
    )
    kinds = Counter(d.event_type for d in sent)
    assert {"order_approved", "pix_created", "billet_created"} <= set(kinds)
    for d in sent:
        body = json.loads(d.body)
        assert body["webhook_event_type"] == d.event_type
        assert set(body["Commissions"]) >= {
            "charge_amount",
            "kiwify_fee",
            "my_commission",
            "commissioned_stores",
            "funds_status",
            "estimated_deposit_date",
            "deposit_date",
        }


def test_a_renewal_sends_a_purchase_event_and_a_subscription_event() -> None:
    sent = [d for a in FACTS.accounts for d in deliveries(FACTS, a.name, now=FACTS.world_end)]
    renewed = {json.loads(d.body)["order_id"] for d in sent if d.event_type == "subscription_renewed"}
    approved = {json.loads(d.body)["order_id"] for d in sent if d.event_type == "order_approved"}
    assert renewed and renewed <= approved
