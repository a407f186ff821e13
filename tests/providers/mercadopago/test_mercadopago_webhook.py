"""Mercado Pago's webhook scheme: the x-signature over the query's data.id, and every topic parsed.

MP publishes no signer (its SDK only validates), so deliveries are signed here from the documented
template, and every delivery this file calls genuine is first accepted by the official SDK's own
`WebhookSignatureValidator` (`mercadopago.webhook`): the signer is MP's algorithm as MP's library
reads it, not our reading checked against itself. Payloads follow MP's "Webhooks" page (topic
`payment`) and `../shared/reference/providers-gateways.md` §3.2 (other topics, third-party shapes).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from mercadopago.webhook import InvalidWebhookSignatureError, WebhookSignatureValidator

from ingestion import raw_writer
from plugins.providers.base import EMPTY, NormalizedEvent, RawRecord
from plugins.providers.errors import (
    BadSignatureError,
    MissingHeaderError,
    StaleTimestampError,
    WebhookError,
    WebhookPayloadError,
)
from plugins.providers.mercadopago.provider import MercadoPagoProvider
from plugins.providers.mercadopago.shapes import CHARGEBACKS_TOPIC, MERCHANT_ORDER_TOPIC, PAYMENT_ACTIONS
from plugins.providers.mercadopago.webhook import EVENTS_TABLE, MercadoPagoWebhook, manifest, signed_at
from plugins.providers.registry import RAW_TABLES

SECRET = "f3c1b2a9d8e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1"
SCHEME = MercadoPagoWebhook()
NOW = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)
PAYMENT_ID = "999999999"
REQUEST_ID = "bb56a2f1-6aae-46ac-982e-9dcd3581d08e"


def body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def payment_notification(action: str = "payment.updated", **extra: Any) -> dict[str, Any]:
    """The body MP's Webhooks page shows for topic `payment`."""
    return {
        "id": 12345,
        "live_mode": True,
        "type": "payment",
        "date_created": "2026-10-01T11:59:58.396-04:00",
        "user_id": 44444,
        "api_version": "v1",
        "action": action,
        "data": {"id": PAYMENT_ID},
        **extra,
    }


@dataclass(frozen=True)
class Delivery:
    """One POST as MP sends it: headers, query string and the exact body bytes."""

    raw: bytes
    query: Mapping[str, str]
    headers: Mapping[str, str] = field(default_factory=dict)


def deliver(
    payload: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    ts: str | None = None,
    request_id: str | None = REQUEST_ID,
    signed_id: str | None = "from-body",
    query_id: str | None = "same",
) -> Delivery:
    """Sign a delivery the way MP documents it; the query's `data.id` is what the manifest names."""
    raw = payload if isinstance(payload, bytes) else body(payload)
    data_id = str(json.loads(raw)["data"]["id"]) if signed_id == "from-body" else signed_id
    ts = ts if ts is not None else str(int(NOW.timestamp()))
    signature = hmac.new(secret.encode(), manifest(data_id, request_id, ts).encode(), hashlib.sha256).hexdigest()
    headers = {"x-signature": f"ts={ts},v1={signature}", "content-type": "application/json"}
    if request_id is not None:
        headers["x-request-id"] = request_id
    in_query = data_id if query_id == "same" else query_id
    query = {"type": "payment"} | ({"data.id": in_query} if in_query is not None else {})
    return Delivery(raw, query, headers)


def sdk_accepts(delivery: Delivery, secret: str = SECRET) -> bool:
    """Whether MP's official validator accepts the delivery (no age check, as MP's default)."""
    try:
        WebhookSignatureValidator.validate(
            delivery.headers.get("x-signature"),
            delivery.headers.get("x-request-id"),
            delivery.query.get("data.id"),
            secret,
        )
    except InvalidWebhookSignatureError:
        return False
    return True


def verify(delivery: Delivery, scheme: MercadoPagoWebhook = SCHEME, secret: str = SECRET) -> None:
    scheme.verify(secret, delivery.headers, delivery.raw, query=delivery.query)


def test_the_manifest_is_mps_template_with_absent_segments_dropped() -> None:
    assert manifest("999", "req-1", "1704908010") == "id:999;request-id:req-1;ts:1704908010;"
    assert manifest(None, "req-1", "1704908010") == "request-id:req-1;ts:1704908010;"
    assert manifest("999", None, "1704908010") == "id:999;ts:1704908010;"
    assert manifest(None, None, "1") == "ts:1;"


# ---------------------------------------------------------------------------- verify


@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
def test_a_genuine_delivery_verifies_whatever_the_header_names_case(case: Any) -> None:
    delivery = deliver(payment_notification())
    assert sdk_accepts(delivery), "MP's own validator accepts what this file signs"
    verify(replace(delivery, headers={case(name): value for name, value in delivery.headers.items()}))


def test_the_signature_covers_the_query_data_id_not_the_body() -> None:
    """MP signs `data.id` as it is in the URL; the body plays no part in the HMAC itself."""
    delivery = deliver(payment_notification())
    compact = replace(delivery, raw=json.dumps(payment_notification(), separators=(",", ":")).encode())
    assert sdk_accepts(compact)
    verify(compact)  # the same notification, re-serialized: still the signed resource


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        (lambda d: replace(d, raw=body(payment_notification(data={"id": "111111111"}))), "body names another payment"),
        (lambda d: replace(d, query={**d.query, "data.id": "111111111"}), "query names another payment"),
        (
            lambda d: replace(
                d, query={**d.query, "data.id": "111111111"}, raw=body(payment_notification(data={"id": "111111111"}))
            ),
            "both moved to another payment",
        ),
        (lambda d: replace(d, headers={**d.headers, "x-request-id": "another-request"}), "another request id"),
        (
            lambda d: replace(
                d, headers={**d.headers, "x-signature": d.headers["x-signature"].replace("ts=1", "ts=2")}
            ),
            "ts",
        ),
        (lambda d: replace(d, query={"type": "payment"}), "query without data.id"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_tampered_delivery_is_a_bad_signature(tamper: Any, why: str) -> None:
    tampered = tamper(deliver(payment_notification()))
    with pytest.raises(BadSignatureError) as raised:
        verify(tampered)
    assert raised.value.http_status == 401, why


@pytest.mark.parametrize("given", ["not-the-secret", SECRET[:-1], SECRET + "0", SECRET.upper(), "sêcret-não-ascii"])
def test_a_wrong_secret_is_a_bad_signature_that_names_neither_value(given: str) -> None:
    delivery = deliver(payment_notification(), secret=given)
    assert not sdk_accepts(delivery)
    with pytest.raises(BadSignatureError, match="x-signature signature does not match") as raised:
        verify(delivery)
    signature = delivery.headers["x-signature"].split("v1=")[1]
    assert SECRET not in str(raised.value) and given not in str(raised.value) and signature not in str(raised.value)


def test_a_missing_signature_header_is_a_missing_header_error() -> None:
    delivery = deliver(payment_notification())
    for headers in ({}, {"x-request-id": REQUEST_ID}, {"x-signatures": delivery.headers["x-signature"]}):
        with pytest.raises(MissingHeaderError, match="no x-signature header"):
            verify(replace(delivery, headers=headers))


def test_a_request_id_signed_must_be_sent_and_one_never_signed_is_left_out() -> None:
    signed_with = deliver(payment_notification())
    with pytest.raises(BadSignatureError):
        verify(replace(signed_with, headers={"x-signature": signed_with.headers["x-signature"]}))
    signed_without = deliver(payment_notification(), request_id=None)
    assert "x-request-id" not in signed_without.headers and sdk_accepts(signed_without)
    verify(signed_without)


def test_a_notification_without_a_resource_id_verifies_without_the_id_segment() -> None:
    raw = body({"id": 7, "type": "mp-connect", "action": "application.deauthorized", "data": {}})
    delivery = Delivery(raw, {"type": "mp-connect"}, deliver(payment_notification(), signed_id=None).headers)
    assert sdk_accepts(delivery)
    verify(delivery)


@pytest.mark.parametrize(
    "value",
    [
        "ts=1704908010",  # no v1
        "v1=abc",  # no ts
        "ts=,v1=abc",
        "ts=abc,v1=abc",
        "ts=1,ts=2,v1=abc",
        "garbage",
        "",
    ],
)
def test_an_unreadable_signature_header_is_a_bad_signature(value: str) -> None:
    with pytest.raises(BadSignatureError, match="x-signature"):
        verify(replace(deliver(payment_notification()), headers={"x-signature": value, "x-request-id": REQUEST_ID}))


def test_an_integration_without_a_secret_verifies_nothing() -> None:
    with pytest.raises(ValueError, match="no webhook secret is configured"):
        verify(deliver(payment_notification(), secret=""), secret="")


def test_an_alphanumeric_id_verifies_signed_as_received_or_lower_cased() -> None:
    """The SDK signs `data.id` as received; third-party code says MP lower-cases letters. Both pass."""
    payload = payment_notification(type="order", action="order.processed", data={"id": "ORD01JQ4S4KY8HWQ6NA5PXB65B3D3"})
    as_received = deliver(payload)
    assert sdk_accepts(as_received)
    verify(as_received)
    lowered = deliver(payload, signed_id="ord01jq4s4ky8hwq6na5pxb65b3d3", query_id="ORD01JQ4S4KY8HWQ6NA5PXB65B3D3")
    verify(lowered)
    with pytest.raises(BadSignatureError):
        verify(deliver(payload, signed_id="ORD01JQ4S4KY8HWQ6NA5PXB65B3D4", query_id="ORD01JQ4S4KY8HWQ6NA5PXB65B3D3"))


# ------------------------------------------------------------------ timestamps, replays


def scheme_at(now: datetime, tolerance_s: float | None = 300) -> MercadoPagoWebhook:
    return MercadoPagoWebhook(tolerance_s=tolerance_s, now=lambda: now)


def test_by_default_any_ts_is_accepted_as_mp_states_no_tolerance() -> None:
    """The docs' own example timestamp is from January 2024; MP retries for days, so no age check by default."""
    delivery = deliver(payment_notification(), ts="1704908010")
    assert sdk_accepts(delivery)
    verify(delivery)
    verify(delivery, scheme_at(NOW + timedelta(days=900), tolerance_s=None))


@pytest.mark.parametrize("unit", ["seconds", "milliseconds"])
def test_with_a_tolerance_an_old_or_future_ts_is_stale(unit: str) -> None:
    def ts_at(moment: datetime) -> str:
        seconds = int(moment.timestamp())
        return str(seconds) if unit == "seconds" else str(seconds * 1000 + 250)

    scheme = scheme_at(NOW)
    verify(deliver(payment_notification(), ts=ts_at(NOW - timedelta(seconds=299))), scheme)
    verify(deliver(payment_notification(), ts=ts_at(NOW + timedelta(seconds=299))), scheme)
    for moment, direction in ((NOW - timedelta(seconds=301), "old"), (NOW + timedelta(seconds=302), "in the future")):
        with pytest.raises(StaleTimestampError, match=f"{direction}, beyond the 300s tolerance") as raised:
            verify(deliver(payment_notification(), ts=ts_at(moment)), scheme)
        assert raised.value.http_status == 401


def test_a_forged_signature_is_refused_as_such_even_when_stale() -> None:
    with pytest.raises(BadSignatureError):
        verify(deliver(payment_notification(), secret="wrong", ts="1704908010"), scheme_at(NOW))


def test_ts_units_are_told_apart_by_their_digits() -> None:
    assert signed_at("1704908010") == datetime(2024, 1, 10, 17, 33, 30, tzinfo=UTC)
    assert signed_at("1704908010123") == datetime(2024, 1, 10, 17, 33, 30, 123000, tzinfo=UTC)
    with pytest.raises(BadSignatureError, match="out of range"):
        signed_at("9" * 40)


def test_a_replayed_delivery_is_one_event_within_the_tolerance_and_stale_past_it() -> None:
    delivery = deliver(payment_notification(), ts=str(int(NOW.timestamp())))
    first, replayed = NOW + timedelta(seconds=1), NOW + timedelta(seconds=200)
    verify(delivery, scheme_at(first))
    verify(delivery, scheme_at(replayed))
    assert SCHEME.parse(delivery.raw).event_id == SCHEME.parse(delivery.raw).event_id == "12345"
    with pytest.raises(StaleTimestampError):
        verify(delivery, scheme_at(NOW + timedelta(minutes=6)))


def test_a_tolerance_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        MercadoPagoWebhook(tolerance_s=0)


# ----------------------------------------------------------------------------- parse

# Every topic we document: (body, event type, data id it lands under, its event id).
DOCUMENTED: dict[str, tuple[dict[str, Any], str, str | None, str]] = {
    **{
        action: (payment_notification(action, id=int(f"1234{n}")), action, PAYMENT_ID, f"1234{n}")
        for n, action in enumerate(sorted(PAYMENT_ACTIONS))
    },
    "chargeback": (
        {
            "id": 88001,
            "live_mode": True,
            "type": CHARGEBACKS_TOPIC,
            "date_created": "2026-10-01T12:00:00.000-03:00",
            "user_id": 44444,
            "api_version": "v1",
            "actions": ["changed_case_status"],
            "data": {"id": 215000001, "payment_id": 999999999, "site_id": "MLB"},
        },
        CHARGEBACKS_TOPIC,
        "215000001",
        "88001",
    ),
    "merchant order": (
        {
            "id": "33002",
            "live_mode": True,
            "type": MERCHANT_ORDER_TOPIC,
            "action": "merchant_order.updated",
            "date_created": "2026-10-01T12:01:00.000-03:00",
            "data": {"id": "24000000001"},
        },
        "merchant_order.updated",
        "24000000001",
        "33002",
    ),
    "unknown topic": (
        {"id": 77, "type": "subscription_authorized_payment", "data": {"id": "AUTH-1"}},
        "subscription_authorized_payment",
        "AUTH-1",
        "77",
    ),
    "unknown topic about no resource": (
        {"id": 78, "type": "mp-connect", "action": "application.deauthorized", "data": {}},
        "application.deauthorized",
        None,
        "78",
    ),
}


@pytest.mark.parametrize("name", list(DOCUMENTED))
def test_every_documented_topic_becomes_one_event_record(name: str) -> None:
    payload, event_type, data_id, event_id = DOCUMENTED[name]
    raw = body(payload)
    event = SCHEME.parse(raw)
    occurred = datetime.fromisoformat(payload["date_created"]) if "date_created" in payload else None
    assert event == NormalizedEvent(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred,
        records=(RawRecord(EVENTS_TABLE, event_id, raw, {"data_id": data_id}),),
        source="webhook",
    )
    assert event.occurred_at is None or event.occurred_at.tzinfo is not None
    assert event.records[0].payload == raw, "the notification lands byte for byte as MP sent it"


def test_a_delivery_that_verifies_parses_into_its_signed_resource() -> None:
    for payload, _, data_id, _ in DOCUMENTED.values():
        delivery = deliver(payload, signed_id="from-body" if data_id else None)
        verify(delivery)
        assert delivery.query.get("data.id") == data_id == SCHEME.parse(delivery.raw).records[0].keys["data_id"]


def test_without_mps_notification_id_the_event_id_is_resource_action_and_time() -> None:
    payload = payment_notification()
    del payload["id"]
    with pytest.raises(WebhookPayloadError, match="`id`"):
        SCHEME.parse(body(payload))  # a payment notification must have MP's id
    other = {"type": CHARGEBACKS_TOPIC, "date_created": "2026-10-01T12:00:00.000-03:00", "data": {"id": "215"}}
    event = SCHEME.parse(body(other))
    assert event.event_id == f"215:{CHARGEBACKS_TOPIC}:2026-10-01T12:00:00-03:00"
    assert SCHEME.parse(body(other)).event_id == event.event_id, "a redelivery keeps its event id"
    later = SCHEME.parse(body({**other, "date_created": "2026-10-02T12:00:00.000-03:00"}))
    assert later.event_id != event.event_id, "a later notification about the same resource is another event"
    assert SCHEME.parse(body({"type": "x", "data": {"id": "1"}})).event_id == "1:x"


def _without(field: str, payload: dict[str, Any] | None = None) -> bytes:
    payload = dict(payload or payment_notification())
    del payload[field]
    return body(payload)


def _with(**fields: Any) -> bytes:
    return body({**payment_notification(), **fields})


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (b"", "notification"),
        (b"not json", "notification"),
        (b'{"id": 1, "type": "payment", "data": {"id": ', "notification"),  # truncated
        (b"[]", "Expected `object`"),
        (b'{"type": "payment", "data": {"id": "\xff"}}', "notification"),  # not UTF-8
        (_without("data"), "`data`"),
        (_with(data={}), "`id`"),
        (_with(data={"id": ""}), r"`\$.data.id`"),
        (_with(data={"id": None}), r"`\$.data.id`"),
        (_with(data="999"), r"`\$.data`"),
        (body({"id": 1, "data": {"id": "1"}}), "neither `type` nor `action`"),
        (_with(date_created="2026-10-01T12:00:00"), "timezone"),
        (_with(date_created="yesterday"), r"`\$.date_created`"),
        (_without("action"), "payment notification .*`action`"),
        (_without("date_created"), "payment notification .*`date_created`"),
        (_without("live_mode"), "payment notification .*`live_mode`"),
        (_with(live_mode="yes"), r"`\$.live_mode`"),
        (_without("data", DOCUMENTED["chargeback"][0]), "topic_chargebacks_wh notification .*`data`"),
        (body({"id": 3, "type": MERCHANT_ORDER_TOPIC, "data": {}}), "topic_merchant_order_wh notification .*`id`"),
        (body({"type": "mp-connect", "data": {}}), "neither the notification's `id` nor `data.id`"),
    ],
)
def test_a_body_that_is_not_the_documented_shape_is_a_payload_error(raw: bytes, names: str) -> None:
    with pytest.raises(WebhookPayloadError, match=f"^mercadopago: the .*{names}") as raised:
        SCHEME.parse(raw)
    assert isinstance(raised.value, WebhookError) and raised.value.http_status == 400


# ------------------------------------------------------------------ where records land


def test_the_provider_declares_its_scheme_and_the_events_table() -> None:
    assert isinstance(MercadoPagoProvider.webhook, MercadoPagoWebhook)
    assert MercadoPagoProvider.webhook.tolerance_s is None, "MP states no tolerance"
    assert MercadoPagoWebhook.raw_tables == {"mercadopago_webhook_events": "data_id"}
    assert RAW_TABLES["mercadopago_webhook_events"] == "data_id"
    assert RAW_TABLES["mercadopago_payments"] == "external_reference"
    assert set(MercadoPagoProvider.landing_tables()) == {"mercadopago_payments", "mercadopago_webhook_events"}


def test_the_query_defaults_to_an_empty_read_only_mapping() -> None:
    assert dict(EMPTY) == {}
    with pytest.raises(TypeError):
        EMPTY["data.id"] = "1"  # type: ignore[index]
    delivery = deliver(payment_notification(), signed_id=None, query_id=None)
    with pytest.raises(BadSignatureError, match=r"signed query string has no data\.id"):
        SCHEME.verify(SECRET, delivery.headers, delivery.raw)  # no query passed: the body's data.id is unsigned


def test_event_records_land_in_raw_once_however_often_mp_redelivers(clean_warehouse: str) -> None:
    events = [SCHEME.parse(body(payload)) for payload, *_ in DOCUMENTED.values()]
    records = [record for event in events for record in event.records]
    with psycopg.connect(clean_warehouse) as conn:
        first = raw_writer.write(conn, records, tenant_id="t1", integration_id=9, sync_run_id=None, source="webhook")
        again = raw_writer.write(conn, records, tenant_id="t1", integration_id=9, sync_run_id=None, source="webhook")
        conn.commit()
        rows = conn.execute("select external_id, data_id, source from raw.mercadopago_webhook_events").fetchall()
    assert (first.rows_written, again.rows_written) == (len(DOCUMENTED), 0)
    assert sorted(rows) == sorted((event_id, data_id, "webhook") for _, _, data_id, event_id in DOCUMENTED.values())
