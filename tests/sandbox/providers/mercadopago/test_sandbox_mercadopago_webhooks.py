"""Mercado Pago's Webhooks notifications as the sandbox sends them: thin bodies, the query string, and an
`x-signature` the official SDK's validator accepts with the account's secret (and no other)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, time, timedelta

import httpx
import pytest
from mercadopago.webhook import InvalidWebhookSignatureError, SignatureFailureReason, WebhookSignatureValidator
from served_sandbox import SMALL, world_of

from sandbox.core.calendar import SAO_PAULO
from sandbox.core.webhooks import post
from sandbox.providers.mercadopago.facts import MercadoPagoFacts
from sandbox.providers.mercadopago.webhooks import deliveries, events

NAME = "mercadopago"


def facts() -> MercadoPagoFacts:
    found = world_of(SMALL).facts[NAME]
    assert isinstance(found, MercadoPagoFacts)
    return found


def as_of_now() -> datetime:
    return datetime.combine(SMALL.as_of, time(), SAO_PAULO)


def header_parts(value: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in value.split(","))


def test_every_payment_is_notified_created_then_updated_on_each_change() -> None:
    f = facts()
    account = f.accounts[0]
    sent = deliveries(f, account.name, now=as_of_now())
    mine = f.payments_by_account[account.name]
    created = [d for d in sent if d.event_type == "payment.created"]
    assert sorted(json.loads(d.body)["data"]["id"] for d in created) == sorted(str(p.payment_id) for p in mine)
    updates = [d for d in sent if d.event_type == "payment.updated"]
    by_payment = {p.payment_id: p for p in mine}
    for d in updates:
        p = by_payment[int(d.query["data.id"])]
        at = datetime.fromisoformat(json.loads(d.body)["date_created"])
        assert at > p.created_at and at in {
            p.approved_at,
            p.expires_at,
            p.charged_back_at,
            *(r.created_at for r in p.refunds),
        }
    refunded = [p for p in mine if p.status == "refunded"]
    assert refunded and all(
        any(d.query["data.id"] == str(p.payment_id) and d.event_type == "payment.updated" for d in updates)
        for p in refunded
    )
    assert len(sent) == sum(len(events(p)) for p in mine)
    times = [datetime.fromisoformat(json.loads(d.body)["date_created"]) for d in sent]
    assert times == sorted(times)
    assert [d.sent_at for d in sent] == times, "each is sent when the change happened"


def test_the_body_query_and_headers_are_mercado_pagos() -> None:
    f = facts()
    account = f.accounts[1]
    d = deliveries(f, {"name": account.name}, now=as_of_now())[0]
    body = json.loads(d.body)
    assert list(body) == ["id", "live_mode", "type", "date_created", "user_id", "api_version", "action", "data"]
    assert body["type"] == "payment" and body["api_version"] == "v1" and body["live_mode"] is False
    assert (
        body["user_id"] == account.collector_id
        and isinstance(body["id"], int)
        and body["date_created"].endswith("-04:00")
    )
    assert d.query == {"data.id": body["data"]["id"], "type": "payment"}
    assert d.url("http://sink/hook") == f"http://sink/hook?data.id={body['data']['id']}&type=payment"
    parts = header_parts(d.headers["x-signature"])
    assert set(parts) == {"ts", "v1"} and len(parts["ts"]) == 10, "ts in seconds"
    assert int(parts["ts"]) == int(datetime.fromisoformat(body["date_created"]).timestamp())
    manifest = f"id:{d.query['data.id']};request-id:{d.headers['x-request-id']};ts:{parts['ts']};"
    expected = hmac.new(account.webhook_secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    assert parts["v1"] == expected
    again = deliveries(f, account.name, now=as_of_now())[0]
    assert (again.event_id, again.headers, again.body) == (d.event_id, d.headers, d.body), "redeliveries are identical"


def test_the_official_sdk_validator_accepts_them_with_the_accounts_secret_only() -> None:
    f = facts()
    entry = world_of(SMALL).credentials("http://x")["tenants"][0][NAME]["accounts"][0]
    sent = deliveries(f, entry, now=as_of_now())
    assert sent
    for d in sent:
        at = datetime.fromisoformat(json.loads(d.body)["date_created"])
        WebhookSignatureValidator.validate(
            d.headers["x-signature"],
            d.headers["x-request-id"],
            d.query["data.id"],
            entry["webhook_secret"],
            tolerance_seconds=300,
            now=lambda at=at: int((at + timedelta(seconds=30)).timestamp() * 1000),
        )
    d = sent[0]
    with pytest.raises(InvalidWebhookSignatureError) as wrong:
        WebhookSignatureValidator.validate(
            d.headers["x-signature"], d.headers["x-request-id"], d.query["data.id"], "0" * 64
        )
    assert wrong.value.reason is SignatureFailureReason.SIGNATURE_MISMATCH
    with pytest.raises(InvalidWebhookSignatureError):
        WebhookSignatureValidator.validate(
            d.headers["x-signature"], d.headers["x-request-id"], "1", entry["webhook_secret"]
        )


def test_notifications_after_now_are_not_sent_yet() -> None:
    f = facts()
    account = f.accounts[0]
    first = min(p.created_at for p in f.payments_by_account[account.name])
    assert deliveries(f, account.name, now=first - timedelta(seconds=1)) == []
    assert len(deliveries(f, account.name, now=first)) >= 1
    with pytest.raises(ValueError, match="timezone-aware"):
        deliveries(f, account.name, now=datetime(2026, 10, 2))
    with pytest.raises(KeyError, match="no account"):
        deliveries(f, "nobody", now=as_of_now())


def test_posted_deliveries_arrive_as_signed() -> None:
    """Posted with the sandbox's `post`, a receiver sees the query, headers and body that were signed."""
    f = facts()
    account = f.accounts[2]
    received: list[tuple[dict[str, str], dict[str, str], bytes]] = []

    def hook(request: httpx.Request) -> httpx.Response:
        received.append((dict(request.url.params), dict(request.headers), request.content))
        return httpx.Response(200)

    sent = deliveries(f, account.name, now=as_of_now())[:5]
    with httpx.Client(transport=httpx.MockTransport(hook)) as client:
        for d in sent:
            assert post(client, "http://sink/hook", d).status_code == 200
    for d, (query, headers, body) in zip(sent, received, strict=True):
        assert query == dict(d.query) and body == d.body
        WebhookSignatureValidator.validate(
            headers["x-signature"], headers["x-request-id"], query["data.id"], account.webhook_secret
        )
