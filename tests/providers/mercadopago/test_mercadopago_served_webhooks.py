"""The sandbox's signed Mercado Pago notifications meet the client's webhook scheme and the warehouse.

The sandbox signs its deliveries itself (`sandbox/providers/mercadopago/webhooks.py`, MP's template,
no SDK signer exists); the client verifies them with its own reading (`plugins/providers/mercadopago/
webhook.py`). Every genuine delivery of the world must verify and parse; tampered, wrongly keyed,
expired or replayed ones must not; and landed through `ingestion.webhook_landing.land` into a real
warehouse (the integration's secret sealed in the vault), each lands once, at the world time it was
sent (`received_at=delivery.sent_at`).
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import psycopg
import pytest

from ingestion import integrations
from ingestion.vault import Keyring, new_key_spec
from ingestion.webhook_landing import land
from plugins.providers.errors import BadSignatureError, MissingHeaderError, StaleTimestampError, WebhookError
from plugins.providers.mercadopago.provider import MercadoPagoProvider
from plugins.providers.mercadopago.webhook import EVENTS_TABLE, MercadoPagoWebhook
from sandbox.core.calendar import SAO_PAULO
from sandbox.core.webhooks import Delivery
from sandbox.providers.mercadopago.facts import MercadoPagoFacts
from sandbox.providers.mercadopago.webhooks import deliveries
from sandbox.world import World, WorldConfig

NAME = "mercadopago"
CONFIG = WorldConfig(
    seed=23,
    tenants=2,
    stores_per_tenant=2,
    days=8,
    orders_per_day=6,
    bank_noise_per_day=5,
    refund_rate=0.2,
    chargeback_rate=0.1,
    payment_expired_rate=0.15,
    mercadopago_review_rate=0.2,
)
AS_OF = datetime.combine(CONFIG.as_of, time(), SAO_PAULO)
SCHEME = MercadoPagoProvider.webhook
KEYRING = Keyring.parse(new_key_spec("mercadopago-webhooks"))


@functools.cache
def world() -> World:
    return World(CONFIG)


def facts() -> MercadoPagoFacts:
    found = world().facts[NAME]
    assert isinstance(found, MercadoPagoFacts)
    return found


def entries() -> list[tuple[str, dict[str, Any]]]:
    """(tenant id, account credentials entry) of every Mercado Pago account of the world."""
    tenants = world().credentials("http://sandbox.invalid")["tenants"]
    return [(t["tenant_id"], e) for t in tenants for e in t[NAME]["accounts"]]


def sent(entry: dict[str, Any]) -> list[Delivery]:
    return deliveries(facts(), entry, now=AS_OF)


def verify(delivery: Delivery, secret: str, scheme: MercadoPagoWebhook = SCHEME) -> None:
    scheme.verify(secret, delivery.headers, delivery.body, query=delivery.query)


# ------------------------------------------------------------------------ verify and parse


def test_every_delivery_of_the_world_verifies_and_parses_into_its_payment() -> None:
    kinds: Counter[str] = Counter()
    for _, entry in entries():
        account = facts().account_by_name[entry["name"]]
        mine = {str(p.payment_id) for p in facts().payments_by_account[entry["name"]]}
        for delivery in sent(entry):
            verify(delivery, entry["webhook_secret"])
            event = SCHEME.parse(delivery.body)
            assert (event.event_id, event.event_type) == (delivery.event_id, delivery.event_type)
            assert event.occurred_at == delivery.sent_at, "MP's date_created is when it was sent"
            [record] = event.records
            assert record.table == EVENTS_TABLE and record.payload == delivery.body
            assert record.keys == {"data_id": delivery.query["data.id"]} and delivery.query["data.id"] in mine
            assert json.loads(delivery.body)["user_id"] == account.collector_id
            kinds[delivery.event_type] += 1
    assert set(kinds) == {"payment.created", "payment.updated"}
    assert sum(kinds.values()) == sum(len(sent(e)) for _, e in entries())


def test_the_event_ids_are_mps_notification_ids_one_per_change() -> None:
    for _, entry in entries():
        ids = [SCHEME.parse(d.body).event_id for d in sent(entry)]
        assert len(ids) == len(set(ids)), "two changes are two events"


def two_payments(entry: dict[str, Any]) -> tuple[Delivery, Delivery]:
    """The account's first delivery, and the first one about another payment."""
    first, *rest = sent(entry)
    return first, next(d for d in rest if d.query["data.id"] != first.query["data.id"])


def tamperings(delivery: Delivery, other: Delivery) -> dict[str, Delivery]:
    body = json.loads(delivery.body)
    moved = json.dumps({**body, "data": {"id": other.query["data.id"]}}, separators=(",", ":")).encode()
    signature = delivery.headers["x-signature"]
    ts = signature.split(",")[0].removeprefix("ts=")
    return {
        "body about another payment": replace(delivery, body=moved),
        "query about another payment": replace(delivery, query={**delivery.query, "data.id": other.query["data.id"]}),
        "another request id": replace(
            delivery, headers={**delivery.headers, "x-request-id": other.headers["x-request-id"]}
        ),
        "another ts": replace(
            delivery, headers={**delivery.headers, "x-signature": signature.replace(f"ts={ts}", f"ts={int(ts) + 1}")}
        ),
        "another delivery's signature": replace(
            delivery, headers={**delivery.headers, "x-signature": other.headers["x-signature"]}
        ),
        "no data.id in the query": replace(delivery, query={"type": "payment"}),
    }


def test_a_tampered_delivery_does_not_verify() -> None:
    _, entry = entries()[0]
    first, second = two_payments(entry)
    for why, tampered in tamperings(first, second).items():
        with pytest.raises(BadSignatureError) as raised:
            verify(tampered, entry["webhook_secret"])
        assert raised.value.http_status == 401, why
    with pytest.raises(MissingHeaderError):
        verify(replace(first, headers={"x-request-id": first.headers["x-request-id"]}), entry["webhook_secret"])


def test_another_tenants_secret_does_not_verify() -> None:
    (tenant_a, entry_a), *rest = entries()
    _, entry_b = next((t, e) for t, e in rest if t != tenant_a)
    assert entry_a["webhook_secret"] != entry_b["webhook_secret"], "each tenant's application has its own secret"
    for delivery in sent(entry_a)[:5]:
        with pytest.raises(BadSignatureError, match="does not match"):
            verify(delivery, entry_b["webhook_secret"])


def test_an_expired_or_replayed_delivery_is_stale_with_a_tolerance() -> None:
    """MP states no tolerance (the client's default checks none); a receiver that sets one refuses a
    delivery whose `ts` is older, however genuine, and so a replay of it."""
    _, entry = entries()[1]
    delivery = sent(entry)[3]
    assert delivery.sent_at is not None
    on_time = MercadoPagoWebhook(tolerance_s=300, now=lambda: delivery.sent_at + timedelta(seconds=20))
    verify(delivery, entry["webhook_secret"], on_time)
    replayed = MercadoPagoWebhook(tolerance_s=300, now=lambda: delivery.sent_at + timedelta(minutes=6))
    with pytest.raises(StaleTimestampError, match="old, beyond the 300s tolerance"):
        verify(delivery, entry["webhook_secret"], replayed)
    early = MercadoPagoWebhook(tolerance_s=300, now=lambda: delivery.sent_at - timedelta(minutes=6))
    with pytest.raises(StaleTimestampError, match="in the future"):
        verify(delivery, entry["webhook_secret"], early)


# ---------------------------------------------------------------------------- the warehouse


def _integration(conn: psycopg.Connection, tenant_id: str, entry: dict[str, Any]) -> int:
    return integrations.add(
        conn,
        KEYRING,
        tenant_id=tenant_id,
        provider=NAME,
        credentials={"access_token": entry["access_token"]},
        external_ids={"payout_documents": entry["payout_documents"]},
        name=entry["name"],
        webhook_secret=entry["webhook_secret"],
    ).integration_id


def test_every_delivery_lands_once_at_the_time_it_was_sent_and_a_replay_adds_nothing(clean_warehouse: str) -> None:
    expected_rows: set[tuple[str, int, str, str]] = set()
    with psycopg.connect(clean_warehouse) as conn:
        for tenant_id, entry in entries():
            iid = _integration(conn, tenant_id, entry)
            for delivery in sent(entry):
                landing = land(
                    conn,
                    iid,
                    delivery.headers,
                    delivery.query,
                    delivery.body,
                    keyring=KEYRING,
                    received_at=delivery.sent_at,
                )
                assert (landing.rows_written, landing.redelivery, landing.event_id) == (1, False, delivery.event_id)
                expected_rows.add((tenant_id, iid, delivery.event_id, delivery.query["data.id"]))
            for delivery in sent(entry)[:10]:  # MP redelivers until it gets a 200/201
                again = land(
                    conn, iid, delivery.headers, delivery.query, delivery.body, keyring=KEYRING, received_at=AS_OF
                )
                assert (again.rows_written, again.redelivery) == (0, True)
        rows = conn.execute(
            f"select tenant_id, integration_id, external_id, data_id, source, received_at, payload from raw.{EVENTS_TABLE}"
        ).fetchall()
        recorded = conn.execute(
            "select event_id, event_type, occurred_at, received_at, rows_written from ops.webhook_deliveries "
            "where rows_written > 0"
        ).fetchall()
    assert {row[:4] for row in rows} == expected_rows and len(rows) == len(expected_rows), "each delivery once"
    assert {row[4] for row in rows} == {"webhook"}
    every = {d.event_id: d for _, e in entries() for d in sent(e)}
    for external_id, received_at, payload in ((r[2], r[5], r[6]) for r in rows):
        delivery = every[external_id]
        assert received_at == delivery.sent_at, "received when the world sent it, not when the test replayed it"
        assert payload == json.loads(delivery.body)
    assert len(recorded) == len(every)
    for event_id, event_type, occurred_at, received_at, _ in recorded:
        delivery = every[event_id]
        assert (event_type, occurred_at, received_at) == (delivery.event_type, delivery.sent_at, delivery.sent_at)


def test_a_delivery_that_does_not_verify_lands_nothing(clean_warehouse: str) -> None:
    tenant_id, entry = entries()[0]
    first, second = two_payments(entry)
    with psycopg.connect(clean_warehouse) as conn:
        iid = _integration(conn, tenant_id, entry)
        for tampered in tamperings(first, second).values():
            with pytest.raises(WebhookError):
                land(conn, iid, tampered.headers, tampered.query, tampered.body, keyring=KEYRING, received_at=AS_OF)
        landed = conn.execute(f"select count(*) from raw.{EVENTS_TABLE}").fetchone()[0]
        recorded = conn.execute("select count(*) from ops.webhook_deliveries").fetchone()[0]
    assert (landed, recorded) == (0, 0)


def test_deliveries_are_signed_in_seconds_as_the_sdk_reads_them() -> None:
    _, entry = entries()[0]
    for delivery in sent(entry)[:20]:
        ts = delivery.headers["x-signature"].split(",")[0].removeprefix("ts=")
        assert delivery.sent_at is not None and len(ts) == 10
        assert datetime.fromtimestamp(int(ts), UTC) == delivery.sent_at
