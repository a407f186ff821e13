"""PushinPay's notifications: one per status change, authenticated by the account's token in
`x-pushinpay-token`, JSON or form-encoded, each saying when (in world time) PushinPay sent it.

PushinPay signs nothing (no HMAC, no timestamp) and publishes no official client library (the
`pushinpay` package on PyPI is a third-party wrapper), so there is no official SDK to verify with or
to point at the sandbox: the receiver below checks the scheme as PushinPay defines it, a
constant-time comparison of the header with the account's webhook token.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from served_sandbox import SMALL, world_of

from sandbox.core.webhooks import Delivery, post
from sandbox.providers.pushinpay.webhooks import TOKEN_HEADER, deliveries
from sandbox.world import World, WorldConfig

WORLD = world_of(SMALL)
FACTS = WORLD.facts["pushinpay"]
CREDENTIALS = [a for t in WORLD.credentials("http://x")["tenants"] for a in t["pushinpay"]["accounts"]]
FIELDS = ["id", "status", "value", "end_to_end_id", "payer_name", "payer_national_registration"]


class Receiver:
    """The checkout's receiver: verifies PushinPay's token, reads JSON or form bodies, records world time."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.seen: list[tuple[dict, dict[str, str]]] = []
        self.first_seen: dict[tuple[str, str], datetime] = {}
        self.clock: datetime | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.secret.encode()):
            return httpx.Response(401, json={"error": "bad token"})
        raw = request.content
        if request.headers["content-type"] == "application/json":
            body = json.loads(raw)
        else:
            body = dict(parse_qsl(raw.decode("ascii"), keep_blank_values=True))
        assert self.clock is not None
        self.first_seen.setdefault((body["id"], body["status"]), self.clock)
        self.seen.append((body, dict(request.url.params)))
        return httpx.Response(200, json={"ok": True})


def _replay(sent: list[Delivery], receiver: Receiver, url: str = "https://checkout.example/webhooks/pushinpay") -> None:
    with httpx.Client(transport=httpx.MockTransport(receiver.handle)) as client:
        for delivery in sent:
            receiver.clock = delivery.sent_at
            assert post(client, url, delivery).status_code == 200


def test_one_notification_per_status_change_authenticated_by_the_accounts_token() -> None:
    for entry in CREDENTIALS:
        sent = deliveries(FACTS, entry, now=FACTS.world_end)
        charges = FACTS.charges_by_account[entry["name"]]
        expected = sorted(
            (at, f"{c.id}:{status}") for c in charges for at, status in c.changes()[1:] if at <= FACTS.world_end
        )
        assert [(d.sent_at, d.event_id) for d in sent] == expected
        for delivery in sent:
            assert delivery.platform == "pushinpay" and delivery.event_type == delivery.event_id.split(":")[1]
            assert delivery.headers[TOKEN_HEADER] == entry["webhook_secret"]
            assert delivery.sent_at is not None and delivery.sent_at.utcoffset() == timedelta(0)
            assert delivery.event_type in ("paid", "refunded", "canceled")
        receiver = Receiver(entry["webhook_secret"])
        _replay(sent, receiver)
        assert len(receiver.seen) == len(sent)
        wrong = Receiver(entry["webhook_secret"] + "x")
        with httpx.Client(transport=httpx.MockTransport(wrong.handle)) as client:
            assert post(client, "https://checkout.example/hook", sent[0]).status_code == 401


def test_the_body_is_the_charge_and_the_query_is_its_webhook_urls() -> None:
    entry = CREDENTIALS[0]
    receiver = Receiver(entry["webhook_secret"])
    _replay(deliveries(FACTS, entry, now=FACTS.world_end), receiver)
    for body, query in receiver.seen:
        charge = FACTS.charge_by_id[body["id"]]
        assert list(body) == FIELDS and body["value"] == charge.value and isinstance(body["value"], int)
        assert query == dict(parse_qsl(urlsplit(charge.webhook_url).query))
        assert query["order"] == charge.order.order_id
        paid = body["status"] in ("paid", "refunded")
        assert (body["end_to_end_id"] == charge.end_to_end_id) if paid else body["end_to_end_id"] is None
        assert (body["payer_name"] is not None) == paid


def test_form_encoded_notifications_say_the_same() -> None:
    entry = CREDENTIALS[1]
    as_json = deliveries(FACTS, entry, now=FACTS.world_end, encoding="json")
    as_form = deliveries(FACTS, entry, now=FACTS.world_end, encoding="form")
    assert [d.event_id for d in as_json] == [d.event_id for d in as_form]
    for j, f in zip(as_json, as_form, strict=True):
        assert f.headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = dict(parse_qsl(f.body.decode("ascii"), keep_blank_values=True))
        expected = {k: "" if v is None else str(v) for k, v in json.loads(j.body).items()}
        assert form == expected
    mixed = World(WorldConfig(**{**SMALL.to_dict(), "start": SMALL.start, "pushinpay_webhook_encoding": "mixed"}))
    encodings = [a.webhook_encoding for a in mixed.facts["pushinpay"].accounts]
    assert set(encodings) == {"json", "form"}
    with pytest.raises(ValueError, match="encoding must be one of"):
        deliveries(FACTS, entry, now=FACTS.world_end, encoding="xml")


def test_a_replay_records_when_each_charge_was_first_seen_paid_or_refunded() -> None:
    """What the warehouse's paid_at and refunded_at are: the first time it saw the status."""
    for entry in CREDENTIALS:
        receiver = Receiver(entry["webhook_secret"])
        _replay(deliveries(FACTS, entry, now=FACTS.world_end), receiver)
        for payment in FACTS.payments:
            if payment.integration != entry["name"]:
                continue
            assert receiver.first_seen.get((payment.payment_id, "paid")) == payment.paid_at
            assert receiver.first_seen.get((payment.payment_id, "refunded")) == payment.refunded_at


def test_only_what_was_sent_by_now_and_never_after_the_worlds_end() -> None:
    entry = CREDENTIALS[0]
    everything = deliveries(FACTS, entry["name"], now=FACTS.world_end + timedelta(days=30))
    assert everything == deliveries(FACTS, entry, now=FACTS.world_end)
    assert max(d.sent_at for d in everything) <= FACTS.world_end
    middle = everything[len(everything) // 2].sent_at
    assert deliveries(FACTS, entry, now=middle) == [d for d in everything if d.sent_at <= middle]
    assert deliveries(FACTS, entry, now=datetime(2000, 1, 1, tzinfo=UTC)) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        deliveries(FACTS, entry, now=datetime(2026, 10, 5))
    with pytest.raises(KeyError):
        deliveries(FACTS, "nobody", now=FACTS.world_end)


def test_delivery_sent_at_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Delivery("x", "e", "t", b"", sent_at=datetime(2026, 1, 1))
    assert Delivery("x", "e", "t", b"").sent_at is None
