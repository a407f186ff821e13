"""Hotmart's webhook scheme: the hottok, every documented event parsed, and what lands.

Hotmart does not sign its deliveries: the account's hottok comes in `X-HOTMART-HOTTOK` (legacy
bodies and sample purchases also carry it as `hottok`), with no HMAC of the body and no timestamp.
So no library can sign a delivery for these tests (Hotmart publishes none), there is no staleness
check to test (a replay is not stale: it parses to the same event id, and the sink deduplicates
on it), and a body changed in transit verifies as long as the hottok is right, a limitation of
the platform pinned below so nobody mistakes it for protection we have. Payloads follow the
2.0.0 purchase example of the scraped official reference (reference §6.2).
"""

from __future__ import annotations

import copy
import hmac
import json
import zlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ingestion import raw_writer
from plugins.providers.base import NormalizedEvent
from plugins.providers.errors import BadSignatureError, MissingHeaderError, WebhookError, WebhookPayloadError
from plugins.providers.hotmart.provider import HotmartProvider
from plugins.providers.hotmart.webhook import (
    EVENTS_TABLE,
    HOTTOK_HEADER,
    OTHER_EVENTS,
    PURCHASE_EVENTS,
    HotmartWebhook,
)
from plugins.providers.registry import RAW_TABLES

HOTTOK = "hottok-3f1c9a7e2b5d4e8f9a0b1c2d3e4f5a6b"
SCHEME = HotmartWebhook()
CREATED_MS = 1_791_202_800_123  # 2026-10-05 12:20:00.123 UTC
TX = "HP17715690036014"

# The 2.0.0 events the brief names; PURCHASE_EVENTS holds them all (and PURCHASE_BILLET_PRINTED).
NAMED_EVENTS = (
    "PURCHASE_APPROVED",
    "PURCHASE_COMPLETE",
    "PURCHASE_CANCELED",
    "PURCHASE_REFUNDED",
    "PURCHASE_CHARGEBACK",
    "PURCHASE_PROTEST",
    "PURCHASE_EXPIRED",
    "PURCHASE_DELAYED",
)
STATUS_OF = {
    "PURCHASE_APPROVED": "APPROVED",
    "PURCHASE_COMPLETE": "COMPLETE",
    "PURCHASE_CANCELED": "CANCELED",
    "PURCHASE_BILLET_PRINTED": "BILLET_PRINTED",
    "PURCHASE_PROTEST": "DISPUTE",
    "PURCHASE_REFUNDED": "REFUNDED",
    "PURCHASE_CHARGEBACK": "CHARGEBACK",
    "PURCHASE_EXPIRED": "EXPIRED",
    "PURCHASE_DELAYED": "DELAYED",
}


def purchase_data(status: str = "APPROVED", **purchase: Any) -> dict[str, Any]:
    """`data` of a purchase event, as the scraped 2.0.0 example has it (money as JSON numbers)."""
    return {
        "product": {"id": 2125812, "ucode": "f2b3be1f-313f-4a2d", "name": "Curso", "has_co_production": True},
        "affiliates": [{"affiliate_code": "Q58388177J", "name": "Afiliada"}],
        "buyer": {"email": "comprador@example.com", "name": "Comprador", "checkout_phone": "11999999999"},
        "producer": {"name": "Produtora"},
        "commissions": [
            {"value": 149.5, "currency_value": "BRL", "source": "MARKETPLACE"},
            {"value": 1085.5, "currency_value": "BRL", "source": "PRODUCER"},
            {"value": 150.0, "currency_value": "BRL", "source": "COPRODUCER"},
            {"value": 115.0, "currency_value": "BRL", "source": "AFFILIATE"},
        ],
        "purchase": {
            "transaction": TX,
            "status": status,
            "order_date": CREATED_MS - 60_000,
            "approved_date": CREATED_MS - 30_000,
            "price": {"value": 1500.0, "currency_value": "BRL"},
            "full_price": {"value": 1500.0, "currency_value": "BRL"},
            "original_offer_price": {"value": 1500.0, "currency_value": "BRL"},
            "payment": {"type": "CREDIT_CARD", "installments_number": 12},
            "offer": {"code": "k2pasun0"},
            "order_bump": {"is_order_bump": False},
            "checkout_country": {"iso": "BR", "name": "Brasil"},
            "is_subscription": False,
            "recurrence_number": 1,
            **purchase,
        },
        "subscription": {
            "subscriber": {"code": "I9OT62C3"},
            "plan": {"id": 726420, "name": "Mensal"},
            "status": "ACTIVE",
        },
    }


OTHER_DATA: dict[str, dict[str, Any]] = {
    "PURCHASE_OUT_OF_SHOPPING_CART": {"product": {"id": 2125812, "name": "Curso"}, "buyer": {"email": "c@example.com"}},
    "CART_ABANDONMENT": {"product": {"id": 2125812, "name": "Curso"}, "buyer": {"email": "c@example.com"}},
    "SUBSCRIPTION_CANCELLATION": {
        "subscriber": {"code": "I9OT62C3"},
        "subscription": {"id": 123456, "plan": {"id": 726420}},
        "cancellation_date": CREATED_MS,
    },
    "SWITCH_PLAN": {"subscription": {"subscriber_code": "I9OT62C3"}, "plans": [{"id": 111}, {"id": 222}]},
    "UPDATE_SUBSCRIPTION_CHARGE_DATE": {"subscriber": {"code": "I9OT62C3"}, "subscription": {"date_next_charge": 1}},
    "SUBSCRIPTION_BILLING_DATE_CHANGE": {"subscriber_code": "I9OT62C3", "new_date_next_charge": CREATED_MS},
    "CLUB_FIRST_ACCESS": {"product": {"id": 2125812}, "user": {"email": "aluna@example.com"}},
    "CLUB_MODULE_COMPLETED": {"product": {"id": 2125812}, "module": {"id": "2z7ramxejw"}},
    "ORDER_FULFILLMENT": {"purchase": {"transaction": TX}, "product": {"id": 2125812}},
}


def notification(
    event: str = "PURCHASE_APPROVED", data: dict[str, Any] | None = None, **envelope: Any
) -> dict[str, Any]:
    if data is None:
        data = purchase_data(STATUS_OF[event]) if event in PURCHASE_EVENTS else OTHER_DATA[event]
    return {
        "id": f"{zlib.crc32(event.encode()):08x}-7a4e-4d3b-9f61-5a1e2b3c4d5e",
        "creation_date": CREATED_MS,
        "event": event,
        "version": "2.0.0",
        "data": data,
        **envelope,
    }


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


# ---------------------------------------------------------------------------- verify


@pytest.mark.parametrize("name", [HOTTOK_HEADER, HOTTOK_HEADER.lower(), "X-Hotmart-Hottok"])
def test_the_hottok_header_verifies_whatever_its_names_case(name: str) -> None:
    SCHEME.verify(HOTTOK, {"content-type": "application/json", name: HOTTOK}, encode(notification()))


@pytest.mark.parametrize(
    "given", ["not-the-hottok", HOTTOK[:-1], HOTTOK + "0", HOTTOK.upper(), "", "hóttok-não-ascii", " " + HOTTOK]
)
def test_a_wrong_hottok_is_a_bad_signature_that_names_neither_value(given: str) -> None:
    with pytest.raises(BadSignatureError) as raised:
        SCHEME.verify(HOTTOK, {HOTTOK_HEADER: given}, encode(notification()))
    message = str(raised.value)
    assert "X-HOTMART-HOTTOK header does not match" in message
    assert HOTTOK not in message and (not given.strip() or given not in message)
    assert raised.value.http_status == 401


def test_a_wrong_secret_on_our_side_fails_the_same_way() -> None:
    with pytest.raises(BadSignatureError):
        SCHEME.verify("another-accounts-hottok", {HOTTOK_HEADER: HOTTOK}, encode(notification()))


def test_the_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    SCHEME.verify(HOTTOK, {HOTTOK_HEADER: HOTTOK}, encode(notification()))
    assert compared == [(HOTTOK.encode(), HOTTOK.encode())]


@pytest.mark.parametrize(
    "body",
    [
        notification(hottok=HOTTOK),  # legacy / api-evangelist: at the envelope's top level
        notification(data=purchase_data(hottok=HOTTOK)),  # the scraped 2.0.0 example: in data.purchase
    ],
    ids=["top-level", "data.purchase"],
)
def test_without_the_header_the_bodys_hottok_verifies(body: dict[str, Any]) -> None:
    SCHEME.verify(HOTTOK, {"content-type": "application/json"}, encode(body))
    with pytest.raises(BadSignatureError, match="the body's hottok field does not match"):
        SCHEME.verify("another-hottok", {}, encode(body))


def test_a_wrong_header_is_refused_even_when_the_body_carries_the_right_hottok() -> None:
    with pytest.raises(BadSignatureError, match="header does not match"):
        SCHEME.verify(HOTTOK, {HOTTOK_HEADER: "forged"}, encode(notification(hottok=HOTTOK)))


@pytest.mark.parametrize(
    "body",
    [encode(notification()), b"", b"not json", b"[1, 2]", encode(notification(hottok=None)), b'{"hottok": 123}'],
)
def test_no_header_and_no_hottok_in_the_body_is_a_missing_header(body: bytes) -> None:
    with pytest.raises(MissingHeaderError, match="no X-HOTMART-HOTTOK header and its body no hottok"):
        SCHEME.verify(HOTTOK, {"content-type": "application/json"}, body)


def test_an_integration_without_a_hottok_verifies_nothing() -> None:
    with pytest.raises(ValueError, match="no hottok is configured"):
        SCHEME.verify("", {HOTTOK_HEADER: ""}, encode(notification()))


def test_a_tampered_body_still_verifies_and_lands_as_sent_there_is_no_hmac() -> None:
    """The hottok authenticates the sender, not the bytes: what lands is what was sent."""
    tampered = notification()
    tampered["data"]["purchase"]["price"]["value"] = 1.0
    body = encode(tampered)
    SCHEME.verify(HOTTOK, {HOTTOK_HEADER: HOTTOK}, body)
    assert SCHEME.parse(body).records[0].payload == body


def test_an_old_delivery_is_not_stale_and_a_replay_parses_to_the_same_event_id() -> None:
    """No timestamp is signed, so nothing can be stale; the envelope id is the replay defence."""
    old = encode(notification(creation_date=946_684_800_000))  # 2000-01-01
    SCHEME.verify(HOTTOK, {HOTTOK_HEADER: HOTTOK}, old)  # no StaleTimestampError
    first, replay = SCHEME.parse(old), SCHEME.parse(old)
    assert first.event_id == replay.event_id and first.records == replay.records
    assert first.occurred_at == datetime(2000, 1, 1, tzinfo=UTC)


# ----------------------------------------------------------------------------- parse


@pytest.mark.parametrize("event", sorted(PURCHASE_EVENTS))
def test_every_purchase_event_parses_to_its_envelope_and_names_its_transaction(event: str) -> None:
    body = notification(event)
    parsed = SCHEME.parse(encode(body))
    assert isinstance(parsed, NormalizedEvent)
    assert (parsed.event_id, parsed.event_type, parsed.source) == (body["id"], event, "webhook")
    assert parsed.occurred_at == datetime(2026, 10, 5, 12, 20, 0, 123000, tzinfo=UTC)
    (record,) = parsed.records
    assert (record.table, record.external_id, dict(record.keys)) == (EVENTS_TABLE, body["id"], {"transaction": TX})
    assert record.payload == encode(body), "the notification lands byte for byte"


def test_the_named_events_are_all_purchase_events() -> None:
    assert set(NAMED_EVENTS) <= PURCHASE_EVENTS


@pytest.mark.parametrize("event", sorted(OTHER_EVENTS))
def test_every_other_documented_event_lands_on_its_envelope(event: str) -> None:
    body = notification(event)
    parsed = SCHEME.parse(encode(body))
    (record,) = parsed.records
    assert (parsed.event_id, parsed.event_type) == (body["id"], event)
    assert record.keys == {"transaction": TX if event == "ORDER_FULFILLMENT" else None}


def test_an_event_hotmart_adds_later_lands_on_its_envelope() -> None:
    parsed = SCHEME.parse(encode(notification(data={"anything": [1, 2.5]}, event="PURCHASE_SOMETHING_NEW")))
    assert parsed.event_type == "PURCHASE_SOMETHING_NEW" and parsed.records[0].keys == {"transaction": None}


def _without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


def _with(body: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


MALFORMED = {
    "empty": b"",
    "not json": b"PURCHASE_APPROVED",
    "truncated": encode(notification())[:-7],
    "a list": b"[]",
    "form-encoded (1.0.0 postback)": b"hottok=abc&prod=123&status=approved&transaction=HP1",
    "no id": encode(_without(notification(), "id")),
    "empty id": encode(_with(notification(), "", "id")),
    "no event": encode(_without(notification(), "event")),
    "no creation_date": encode(_without(notification(), "creation_date")),
    "creation_date as text": encode(_with(notification(), "2026-10-05T12:20:00Z", "creation_date")),
    "negative creation_date": encode(_with(notification(), -1, "creation_date")),
    "no version": encode(_without(notification(), "version")),
    "version 1.0.0": encode(_with(notification(), "1.0.0", "version")),
    "data not an object": encode(_with(notification(), [1], "data")),
    "purchase without transaction": encode(_without(notification(), "data", "purchase", "transaction")),
    "purchase without status": encode(_without(notification(), "data", "purchase", "status")),
    "purchase without price": encode(_without(notification(), "data", "purchase", "price")),
    "price with a decimal comma": encode(_with(notification(), "1500,00", "data", "purchase", "price", "value")),
    "price null": encode(_with(notification(), None, "data", "purchase", "price", "value")),
    "price NaN": encode(_with(notification(), "NaN", "data", "purchase", "price", "value")),
    "commission without source": encode(_with(notification(), [{"value": 1.0}], "data", "commissions")),
    "purchase event without product": encode(_without(notification(), "data", "product")),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_notification_is_a_payload_error(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError) as raised:
        SCHEME.parse(body)
    assert raised.value.http_status == 400 and isinstance(raised.value, WebhookError)


def test_the_tables_are_declared_in_the_registry() -> None:
    assert HotmartProvider.webhook is not None
    assert RAW_TABLES[EVENTS_TABLE] == "transaction"
    assert {t: RAW_TABLES[t] for t in HotmartProvider.landing_tables()} == {
        "hotmart_sales": "status",
        "hotmart_commissions": "product_id",
        "hotmart_price_details": "product_id",
        "hotmart_webhook_events": "transaction",
    }


def test_notifications_land_once_however_often_hotmart_redelivers_with_exact_amounts(clean_warehouse: str) -> None:
    bodies = [notification(event) for event in NAMED_EVENTS]
    bodies[0]["data"]["purchase"]["price"]["value"] = 1234567.89
    bodies[1]["data"]["commissions"][1]["value"] = 1.005
    bodies[2]["data"]["purchase"]["price"]["value"] = 10.05
    records = [record for body in bodies for record in SCHEME.parse(encode(body)).records]
    with psycopg.connect(clean_warehouse) as conn:
        first = raw_writer.write(conn, records, tenant_id="t1", integration_id=7, sync_run_id=None, source="webhook")
        again = raw_writer.write(conn, records, tenant_id="t1", integration_id=7, sync_run_id=None, source="webhook")
        rows = conn.execute(
            "select external_id, transaction, payload ->> 'event', "
            "(payload #>> '{data,purchase,price,value}')::numeric, (payload #>> '{data,commissions,1,value}')::numeric "
            "from raw.hotmart_webhook_events order by payload ->> 'event'"
        ).fetchall()
        conn.rollback()
    assert (first.rows_written, again.rows_written) == (len(bodies), 0)
    by_event = {row[2]: row for row in rows}
    assert {row[1] for row in rows} == {TX} and len(rows) == len(NAMED_EVENTS)
    assert by_event["PURCHASE_APPROVED"][3] == Decimal("1234567.89")
    assert by_event["PURCHASE_COMPLETE"][4] == Decimal("1.005")
    assert by_event["PURCHASE_CANCELED"][3] == Decimal("10.05")
