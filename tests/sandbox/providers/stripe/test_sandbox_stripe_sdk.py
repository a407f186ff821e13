"""The official client check: stripe-python (16.x, unchanged) pointed at the sandbox lists what the
world holds, exactly; and `stripe.Webhook.construct_event` accepts the sandbox's signed deliveries."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import stripe
from served_sandbox import Served

from sandbox.providers.stripe.facts import StripeFacts
from sandbox.providers.stripe.webhooks import deliveries, events, signature_header

EVENT_TYPES = {
    "charge.succeeded",
    "charge.failed",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
    "payout.created",
    "payout.paid",
    "payment_intent.succeeded",
}


def _facts(served: Served) -> StripeFacts:
    facts = served.world.facts["stripe"]
    assert isinstance(facts, StripeFacts)
    return facts


def _client(served: Served, key: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        key, base_addresses={"api": served.credentials["base_urls"]["stripe"]}, max_network_retries=0
    )


def test_the_installed_library_is_the_official_one() -> None:
    assert stripe.VERSION.split(".")[0] == "16"


def test_official_client_lists_everything_exactly(served: Served) -> None:
    facts = _facts(served)
    for account in facts.accounts:
        client = _client(served, account.secret_key)
        charges = list(client.v1.charges.list(params={"limit": 25}).auto_paging_iter())
        mine = [c for c in facts.charges if c.account_id == account.account_id]
        assert sorted((c.id, c.amount, c.status) for c in charges) == sorted(
            (c.charge_id, c.amount, c.status) for c in mine
        )
        for c in charges:
            record = facts.charge_by_id[c.id]
            assert c.metadata["order_id"] == record.order.order_id
            assert c.payment_method_details.type == record.order.method
        txns = list(client.v1.balance_transactions.list(params={"limit": 100}).auto_paging_iter())
        expected = [t for t in facts.balance_transactions if t.account_id == account.account_id]
        assert sorted((t.id, t.amount, t.fee, t.net, t.type) for t in txns) == sorted(
            (t.txn_id, t.amount, t.fee, t.net, t.type) for t in expected
        )
        payouts = list(client.v1.payouts.list(params={"limit": 3}).auto_paging_iter())
        assert sorted((p.id, p.amount) for p in payouts) == sorted(
            (p.payout_id, p.amount) for p in facts.stripe_payouts if p.account_id == account.account_id
        )
        for p in payouts:
            paid = list(client.v1.balance_transactions.list(params={"payout": p.id, "limit": 10}).auto_paging_iter())
            record = facts.payout_by_id[p.id]
            assert sorted(t.id for t in paid) == sorted([record.txn_id, *record.paid_txns])
            assert sum(t.net for t in paid if t.type != "payout") == p.amount
            assert [t.amount for t in paid if t.type == "payout"] == [-p.amount]
        generic = {x.payout_id: x for x in facts.payouts if x.integration == account.name}
        assert {p.id: p.amount for p in payouts} == {k: int(v.amount * 100) for k, v in generic.items()}


def test_module_level_api_base_and_errors(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    account = _facts(served).accounts[0]
    monkeypatch.setattr(stripe, "api_base", served.credentials["base_urls"]["stripe"])
    monkeypatch.setattr(stripe, "api_key", account.secret_key)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    listed = stripe.Charge.list(limit=5, created={"gte": 0})
    assert len(listed.data) == 5 and listed.has_more is True
    one = stripe.Charge.retrieve(listed.data[0].id)
    assert one.amount == listed.data[0].amount
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.Charge.retrieve("ch_3nothere")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    monkeypatch.setattr(stripe, "api_key", "sk_test_51wrong000000000000")
    with pytest.raises(stripe.AuthenticationError) as refused:
        stripe.Payout.list()
    assert refused.value.http_status == 401


def test_signed_deliveries_verify_with_the_official_library(served: Served) -> None:
    facts = _facts(served)
    seen: Counter[str] = Counter()
    now = time.time()
    for account in facts.accounts:
        sent = deliveries(facts, account.name, now=now)
        assert sent == deliveries(facts, account.secret_key, now=now), "by name or by key"
        for delivery in sent:
            header = delivery.headers["Stripe-Signature"]
            event = stripe.Webhook.construct_event(delivery.body, header, account.webhook_secret)
            assert event.id == delivery.event_id and event.type == delivery.event_type
            assert event.object == "event" and event.livemode is False and event.pending_webhooks == 1
            assert event.api_version and "request" in json.loads(delivery.body)
            seen[event.type] += 1
            with pytest.raises(stripe.SignatureVerificationError):
                stripe.Webhook.construct_event(delivery.body, header, "whsec_someoneelse")
            with pytest.raises(stripe.SignatureVerificationError):
                stripe.Webhook.construct_event(delivery.body + b" ", header, account.webhook_secret)
        created = [json.loads(d.body)["created"] for d in sent]
        assert created == sorted(created) and all(c <= facts.now.timestamp() for c in created)
        assert len({d.event_id for d in sent}) == len(sent)
    assert set(seen) <= EVENT_TYPES
    assert {"charge.succeeded", "payment_intent.succeeded", "payout.created", "payout.paid"} <= set(seen)
    paid = sum(1 for c in facts.charges if c.status == "succeeded")
    assert seen["charge.succeeded"] == seen["payment_intent.succeeded"] == paid
    assert seen["charge.refunded"] == sum(1 for c in facts.charges if c.refund)
    assert seen["charge.failed"] == sum(1 for c in facts.charges if c.status == "failed")


def test_an_old_signature_is_refused() -> None:
    body = b'{"id": "evt_1", "object": "event"}'
    stale = signature_header(body, "whsec_x", int(time.time()) - 600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, stale, "whsec_x")


def test_event_objects_are_snapshots_at_the_event(served: Served) -> None:
    facts = _facts(served)
    refunded = next(c for c in facts.charges if c.refund)
    account = facts.account_by_id[refunded.account_id]
    by_type = {}
    for e in events(facts, account):
        if e["data"]["object"].get("id") == refunded.charge_id:
            by_type[e["type"]] = e["data"]["object"]
    assert by_type["charge.succeeded"]["refunded"] is False and by_type["charge.succeeded"]["amount_refunded"] == 0
    assert by_type["charge.refunded"]["refunded"] is True
    assert by_type["charge.refunded"]["amount_refunded"] == refunded.amount
    payout_events = [e for e in events(facts, account) if e["type"].startswith("payout.")]
    assert {e["data"]["object"]["status"] for e in payout_events if e["type"] == "payout.created"} == {"pending"}
    assert {e["data"]["object"]["status"] for e in payout_events if e["type"] == "payout.paid"} == {"paid"}
