"""The sink over a real socket: every scheme's valid, tampered, expired and replayed deliveries, and every error path.

The gateways' deliveries are the sandbox's (signed as each platform signs them), Stripe's also
signed by the official `stripe` library; Pluggy's are built as Pluggy sends them (a custom secret
header), since the sandbox renders none. What "replayed" can mean depends on the scheme: a
timestamped signature (Stripe) makes an old delivery fail as stale; schemes without a timestamp
(Mercado Pago by default, Asaas, PushinPay, Pluggy) cannot tell a replay from a retry, so the
replay verifies and is absorbed at the door by its event id: 202, and no second row.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg
import pytest
import stripe
from sink_support import MAX_BODY, Sink, inbox

from ingestion import integrations
from ingestion.vault import Keyring
from sandbox.registry import platform
from sandbox.world import World

GATEWAYS = ("stripe", "mercadopago", "asaas", "pushinpay")
SECRET_HEADERS = ("asaas-access-token", "x-pushinpay-token", "x-webhook-secret")


def _deliveries(world: World, provider: str, count: int = 4):
    (account,) = world.credentials("")["tenants"][0][provider]["accounts"]
    # Signed as of now, at the call: a timestamped scheme refuses what was signed minutes ago.
    return platform(provider).webhooks(world.facts[provider], account["name"], now=datetime.now(UTC))[:count], account


def _post(sink: Sink, url: str, delivery, *, body: bytes | None = None, headers=None, query=None):
    return sink.client.post(
        url,
        content=delivery.body if body is None else body,
        headers=dict(delivery.headers if headers is None else headers),
        params=dict(delivery.query if query is None else query),
    )


@pytest.mark.parametrize("provider", GATEWAYS)
def test_valid_deliveries_are_stored_once_and_a_replay_adds_nothing(
    provider: str, sink: Sink, world: World, registered: dict, clean_module_warehouse: str
) -> None:
    sent, _ = _deliveries(world, provider)
    iid = registered[provider].integration_id
    first = [_post(sink, sink.url(provider, iid), d) for d in sent]
    assert [(r.status_code, r.json()["outcome"], r.json()["event_id"]) for r in first] == [
        (202, "new", d.event_id) for d in sent
    ]
    replay = [_post(sink, sink.url(provider, iid), d) for d in sent]
    assert [(r.status_code, r.json()["outcome"]) for r in replay] == [(202, "redelivery")] * len(sent)
    stored = inbox(clean_module_warehouse, "integration_id = %s", (iid,))
    assert [row[1] for row in stored] == [d.event_id for d in sent] and {row[2] for row in stored} == {"pending"}
    for _, _, _, headers, query in stored:
        assert not set(headers) & set(SECRET_HEADERS), "a secret-bearing header is never stored"
        assert registered[provider] and all(v != "" for v in query.values())


@pytest.mark.parametrize("provider", GATEWAYS)
def test_a_tampered_delivery_is_refused_and_not_stored(
    provider: str, sink: Sink, world: World, registered: dict, clean_module_warehouse: str
) -> None:
    (delivery, *_), _ = _deliveries(world, provider, 1)
    iid = registered[provider].integration_id
    before = len(inbox(clean_module_warehouse))
    if provider == "mercadopago":  # MP signs the query's data.id, not the body
        answer = _post(sink, sink.url(provider, iid), delivery, query={**delivery.query, "data.id": "999999"})
    elif provider == "stripe":
        answer = _post(sink, sink.url(provider, iid), delivery, body=delivery.body.replace(b'"', b' "', 1))
    else:  # a static token: a wrong one, or none
        headers = {k: ("not-the-token" if k.lower() in SECRET_HEADERS else v) for k, v in delivery.headers.items()}
        answer = _post(sink, sink.url(provider, iid), delivery, headers=headers)
        missing = _post(sink, sink.url(provider, iid), delivery, headers={"Content-Type": "application/json"})
        assert missing.status_code == 401
    assert answer.status_code == 401 and answer.json() == {
        "accepted": False,
        "error": "the request does not authenticate",
    }
    assert len(inbox(clean_module_warehouse)) == before


def test_stripe_deliveries_signed_by_the_stripe_library_verify_and_expired_ones_do_not(
    sink: Sink, world: World, registered: dict
) -> None:
    sent, account = _deliveries(world, "stripe", 6)
    url = sink.url("stripe", registered["stripe"].integration_id)
    secret = account["webhook_secret"]
    fresh, expired = sent[4], sent[5]
    signed = stripe.WebhookSignature.generate_signature_header(fresh.body.decode(), secret, int(time.time()))
    assert sink.client.post(url, content=fresh.body, headers={"Stripe-Signature": signed}).status_code == 202
    old = stripe.WebhookSignature.generate_signature_header(expired.body.decode(), secret, int(time.time()) - 600)
    answer = sink.client.post(url, content=expired.body, headers={"Stripe-Signature": old})
    assert answer.status_code == 401
    # A captured delivery replayed ten minutes later: its signature is stale, so it is refused too.
    replayed = sink.client.post(
        url,
        content=fresh.body,
        headers={"Stripe-Signature": signed.replace(f"t={signed.split(',')[0][2:]}", f"t={int(time.time()) - 600}")},
    )
    assert replayed.status_code == 401
    assert 'reason="stale_timestamp"' in sink.client.get(f"{sink.base}/metrics").text


def test_pluggy_notifications_verify_by_their_custom_header(sink: Sink, clean_module_warehouse: str) -> None:
    with psycopg.connect(clean_module_warehouse) as conn:
        pluggy = integrations.add(
            conn,
            Keyring.load(),
            tenant_id="tenant-pluggy",
            provider="pluggy",
            credentials={"client_id": "cid", "client_secret": "cs"},
            external_ids={"item_ids": ["item-1"]},
            webhook_secret="whk-pluggy-sink",
        )
    body = json.dumps({"event": "item/updated", "eventId": "evt-sink-1", "itemId": "item-1"}).encode()
    url = sink.url("pluggy", pluggy.integration_id)
    good = sink.client.post(url, content=body, headers={"X-Webhook-Secret": "whk-pluggy-sink"})
    again = sink.client.post(url, content=body, headers={"X-Webhook-Secret": "whk-pluggy-sink"})
    bad = sink.client.post(url, content=body, headers={"X-Webhook-Secret": "whk-pluggy-guess"})
    assert (good.status_code, good.json()["outcome"], again.json()["outcome"], bad.status_code) == (
        202,
        "new",
        "redelivery",
        401,
    )
    ((_, event_id, _, headers, _),) = inbox(clean_module_warehouse, "integration_id = %s", (pluggy.integration_id,))
    assert event_id == "evt-sink-1" and set(headers) == {"user-agent"}, "the secret header is not kept"


def test_the_bare_provider_url_takes_the_integration_whose_secret_verifies(sink: Sink, world: World) -> None:
    sent, _ = _deliveries(world, "pushinpay", 6)
    answer = _post(sink, sink.url("pushinpay"), sent[5])
    assert (answer.status_code, answer.json()["outcome"]) == (202, "new")
    wrong = {k: ("nope" if k.lower() == "x-pushinpay-token" else v) for k, v in sent[5].headers.items()}
    assert _post(sink, sink.url("pushinpay"), sent[5], headers=wrong).status_code == 401


def test_an_authentic_body_that_does_not_parse_is_accepted_into_the_dead_letter_queue(
    sink: Sink, world: World, registered: dict, clean_module_warehouse: str
) -> None:
    (delivery, *_), _ = _deliveries(world, "pushinpay", 1)
    iid = registered["pushinpay"].integration_id
    answer = _post(sink, sink.url("pushinpay", iid), delivery, body=b'{"id": "x", "status": "paid", "value": 1.5}')
    assert (answer.status_code, answer.json()["outcome"]) == (202, "dead_letter")
    dead = inbox(clean_module_warehouse, "status = 'dead'")
    assert len(dead) == 1 and dead[0][1].startswith("body-sha256:")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/integrations/webhooks/nobody", "no provider"),
        ("/integrations/webhooks/ifood", "no provider"),  # registered, but sends no webhooks
        ("/integrations/webhooks/pushinpay/999999", "no integration"),
        ("/integrations/webhooks/pushinpay/abc", "no integration"),
    ],
)
def test_unknown_providers_and_integrations_are_404(sink: Sink, path: str, reason: str) -> None:
    answer = sink.client.post(sink.base + path, content=b"{}", headers={"x-pushinpay-token": "t"})
    assert answer.status_code == 404 and reason in answer.json()["error"]


def test_an_integration_of_another_provider_is_404(sink: Sink, world: World, registered: dict) -> None:
    (delivery, *_), _ = _deliveries(world, "pushinpay", 1)
    answer = _post(sink, sink.url("stripe", registered["pushinpay"].integration_id), delivery)
    assert answer.status_code == 404


def test_wrong_method_is_405_and_an_oversized_body_413(
    sink: Sink, registered: dict, clean_module_warehouse: str
) -> None:
    url = sink.url("pushinpay", registered["pushinpay"].integration_id)
    assert sink.client.get(url).status_code == 405
    assert sink.client.put(url, content=b"{}").status_code == 405
    before = len(inbox(clean_module_warehouse))
    too_big = sink.client.post(url, content=b"{" + b" " * MAX_BODY + b"}", headers={"x-pushinpay-token": "t"})

    def chunks():  # no Content-Length: the limit holds while the body streams in
        for _ in range(MAX_BODY // 1024 + 2):
            yield b" " * 1024

    streamed = sink.client.post(url, content=chunks(), headers={"x-pushinpay-token": "t"})
    assert (too_big.status_code, streamed.status_code) == (413, 413)
    assert len(inbox(clean_module_warehouse)) == before


def test_concurrent_copies_of_one_event_store_one_row(
    sink: Sink, world: World, registered: dict, clean_module_warehouse: str
) -> None:
    sent, _ = _deliveries(world, "asaas", 8)
    delivery = sent[7]
    url = sink.url("asaas", registered["asaas"].integration_id)
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: _post(sink, url, delivery), range(32)))
    outcomes = sorted(a.json()["outcome"] for a in answers)
    assert {a.status_code for a in answers} == {202}
    assert outcomes == ["new"] + ["redelivery"] * 31
    assert len(inbox(clean_module_warehouse, "event_id = %s", (delivery.event_id,))) == 1


def test_a_rotated_secret_is_used_from_its_first_delivery(
    sink: Sink, world: World, clean_module_warehouse: str
) -> None:
    (delivery, *_), _ = _deliveries(world, "pushinpay", 1)
    with psycopg.connect(clean_module_warehouse) as conn:
        rotated = integrations.add(
            conn,
            Keyring.load(),
            tenant_id="tenant-rotating",
            provider="pushinpay",
            credentials={"token": "123|abc"},
            external_ids={"payout_documents": ["11222333000181"]},
            webhook_secret="whk-old",
        )
        url = sink.url("pushinpay", rotated.integration_id)
        assert _post(sink, url, delivery, headers={"x-pushinpay-token": "whk-old"}).status_code == 202
        integrations.add(
            conn,
            Keyring.load(),
            tenant_id="tenant-rotating",
            provider="pushinpay",
            credentials={"token": "123|abc"},
            external_ids={"payout_documents": ["11222333000181"]},
            webhook_secret="whk-new",
        )
    time.sleep(1.1)  # older than the recheck interval: a failed verification reloads it
    assert _post(sink, url, delivery, headers={"x-pushinpay-token": "whk-new"}).status_code == 202
    time.sleep(0.8)  # the refresher has dropped the old secret
    assert _post(sink, url, delivery, headers={"x-pushinpay-token": "whk-old"}).status_code == 401


def test_health_and_metrics(sink: Sink) -> None:
    health = sink.client.get(f"{sink.base}/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok", "database": "ok"})
    text = sink.client.get(f"{sink.base}/metrics").text
    assert 'conciliador_sink_accepted_total{provider="pushinpay",reason="new"}' in text
    assert 'conciliador_sink_rejected_total{provider="unknown",reason="unknown_provider"}' in text
    assert 'conciliador_sink_rejected_total{provider="pushinpay",reason="too_large"}' in text
    assert "conciliador_sink_request_seconds_bucket" in text and "conciliador_sink_commit_batch_size_count" in text
    depth = next(line for line in text.splitlines() if line.startswith("conciliador_sink_queue_depth "))
    dead = next(line for line in text.splitlines() if line.startswith("conciliador_sink_dead_letter_size "))
    assert float(depth.split()[1]) > 0 and float(dead.split()[1]) >= 1


def test_a_nul_in_the_query_or_the_event_id_cannot_fail_a_batch(
    sink: Sink, world: World, registered: dict, clean_module_warehouse: str
) -> None:
    """PostgreSQL text cannot hold NUL: kept values lose it, and an event id holding one is dead-lettered."""
    sent, _ = _deliveries(world, "pushinpay", 8)
    url = sink.url("pushinpay", registered["pushinpay"].integration_id)
    query = _post(sink, url, sent[6], query={"note": "a\x00b"})
    assert (query.status_code, query.json()["outcome"]) == (202, "new")
    body = b'{"id": "tx\\u0000nul", "status": "paid", "value": 100}'
    nul_id = _post(sink, url, sent[7], body=body)
    assert (nul_id.status_code, nul_id.json()["outcome"]) == (202, "dead_letter")
    assert inbox(clean_module_warehouse, "event_id = %s", (sent[6].event_id,))[0][4] == {"note": "ab"}
