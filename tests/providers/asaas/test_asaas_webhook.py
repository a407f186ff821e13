"""Asaas's webhook scheme: the echoed token, every documented notification parsed, and what lands.

Asaas does not sign its deliveries: the webhook's token comes back verbatim in
`asaas-access-token`, with no HMAC of the body and no timestamp. So there is no library that can
sign a delivery for these tests, no staleness check to test, and a body changed in transit
verifies as long as the token is right (a limitation of the platform, pinned below so nobody
mistakes it for protection we have). Payloads follow the docs' examples ("webhook-para-
cobrancas", "webhook-para-transferencias"); event names are those of the official SDK's enum.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ingestion import raw_writer
from plugins.providers.asaas.provider import AsaasProvider
from plugins.providers.asaas.webhook import PAYMENT_EVENTS, TOKEN_HEADER, TRANSFER_EVENTS, AsaasWebhook
from plugins.providers.base import BUSINESS_TZ, NormalizedEvent, RawRecord
from plugins.providers.errors import (
    BadSignatureError,
    MissingHeaderError,
    StaleTimestampError,
    WebhookError,
    WebhookPayloadError,
)
from plugins.providers.registry import RAW_TABLES

TOKEN = "whk_asaas_7f3a9c2e5b1d4e8f9a0b1c2d3e4f5a6b"
SCHEME = AsaasWebhook()

# The events the brief names, each of which must parse; PAYMENT_EVENTS holds them all and more.
NAMED_PAYMENT_EVENTS = (
    "PAYMENT_CREATED",
    "PAYMENT_CONFIRMED",
    "PAYMENT_RECEIVED",
    "PAYMENT_OVERDUE",
    "PAYMENT_REFUNDED",
    "PAYMENT_PARTIALLY_REFUNDED",
    "PAYMENT_CHARGEBACK_REQUESTED",
    "PAYMENT_CHARGEBACK_DISPUTE",
    "PAYMENT_AWAITING_CHARGEBACK_REVERSAL",
    "PAYMENT_DELETED",
    "PAYMENT_ANTICIPATED",
)


def payment(**extra: Any) -> dict[str, Any]:
    """A payment object as the docs' PAYMENT_RECEIVED example has it (amounts as JSON numbers)."""
    return {
        "object": "payment",
        "id": "pay_6egmyz6lpfxazko3",
        "dateCreated": "2024-11-04",
        "customer": "cus_000006326297",
        "paymentLink": None,
        "value": 42.23,
        "netValue": 41.24,
        "originalValue": None,
        "interestValue": None,
        "description": None,
        "billingType": "BOLETO",
        "confirmedDate": "2024-11-06",
        "status": "RECEIVED",
        "dueDate": "2024-11-09",
        "originalDueDate": "2024-11-09",
        "paymentDate": "2024-11-06",
        "clientPaymentDate": "2024-11-06",
        "installmentNumber": None,
        "externalReference": "order-1001",
        "deleted": False,
        "anticipated": False,
        "creditDate": "2024-11-06",
        "estimatedCreditDate": "2024-11-06",
        "discount": {"value": 0, "limitDate": None, "dueDateLimitDays": 0, "type": "FIXED"},
        "refunds": None,
        **extra,
    }


def transfer(**extra: Any) -> dict[str, Any]:
    """A transfer object as the docs' TRANSFER_CREATED example has it."""
    return {
        "object": "transfer",
        "id": "777eb7c8-b1a2-4356-8fd8-a1b0644b5282",
        "dateCreated": "2019-05-02",
        "status": "PENDING",
        "effectiveDate": None,
        "endToEndIdentifier": None,
        "type": "BANK_ACCOUNT",
        "value": 1000,
        "netValue": 1000,
        "transferFee": 0,
        "scheduleDate": "2019-05-02",
        "authorized": True,
        "failReason": None,
        "bankAccount": {"bank": {"code": "001"}, "ownerName": "Marcelo Almeida", "cpfCnpj": "***.143.689-**"},
        "operationType": "TED",
        "description": None,
        **extra,
    }


def notification(event: str, n: int = 1, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"evt_05b708f961d739ea7eba7e4db318f621&{7_686_000 + n}",
        "event": event,
        "dateCreated": "2024-11-06 18:59:27",
    }
    if event in PAYMENT_EVENTS:
        body["payment"] = payment(status=event.removeprefix("PAYMENT_"))
    elif event in TRANSFER_EVENTS:
        body["transfer"] = transfer(status=event.removeprefix("TRANSFER_"))
    return {**body, **extra}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


# ---------------------------------------------------------------------------- verify


@pytest.mark.parametrize("name", [TOKEN_HEADER, TOKEN_HEADER.upper(), "Asaas-Access-Token"])
def test_a_delivery_with_the_webhooks_token_verifies_whatever_the_header_names_case(name: str) -> None:
    SCHEME.verify(TOKEN, {"content-type": "application/json", name: TOKEN}, encode(notification("PAYMENT_RECEIVED")))


@pytest.mark.parametrize(
    "given",
    [
        "not-the-token",
        TOKEN[:-1],  # a prefix
        TOKEN + "0",  # longer
        TOKEN[:-1] + ("0" if TOKEN[-1] != "0" else "1"),  # differs in the last character only
        TOKEN.upper(),
        "",
        " " + TOKEN,
        "tökén-não-ascii",
    ],
)
def test_a_wrong_token_is_a_bad_signature_that_names_neither_value(given: str) -> None:
    with pytest.raises(BadSignatureError) as raised:
        SCHEME.verify(TOKEN, {TOKEN_HEADER: given}, encode(notification("PAYMENT_RECEIVED")))
    message = str(raised.value)
    assert "asaas-access-token header does not match" in message
    assert TOKEN not in message and (not given.strip() or given.strip() not in message)
    assert raised.value.http_status == 401


def test_a_missing_header_is_a_missing_header_error() -> None:
    for headers in ({}, {"access_token": TOKEN}, {"authorization": TOKEN}, {"asaas-access-tokens": TOKEN}):
        with pytest.raises(MissingHeaderError, match="no asaas-access-token header") as raised:
            SCHEME.verify(TOKEN, headers, encode(notification("PAYMENT_RECEIVED")))
        assert raised.value.http_status == 401


def test_an_integration_without_a_token_verifies_nothing() -> None:
    with pytest.raises(ValueError, match="no webhook token is configured"):
        SCHEME.verify("", {TOKEN_HEADER: ""}, b"{}")


def test_a_tampered_body_fails_only_through_the_token_since_asaas_signs_no_body() -> None:
    """Asaas's scheme authenticates the sender, not the body: pinned so no one relies on more."""
    original = encode(notification("PAYMENT_RECEIVED"))
    tampered = original.replace(b"42.23", b"4223.00")
    assert tampered != original
    SCHEME.verify(TOKEN, {TOKEN_HEADER: TOKEN}, tampered)  # nothing in the request covers the body
    with pytest.raises(BadSignatureError):
        SCHEME.verify(TOKEN, {TOKEN_HEADER: "forged"}, tampered)
    with pytest.raises(MissingHeaderError):
        SCHEME.verify(TOKEN, {}, tampered)


@pytest.mark.parametrize("verdict", [True, False])
def test_the_verdict_is_hmac_compare_digests_alone(monkeypatch: pytest.MonkeyPatch, verdict: bool) -> None:
    """Constant time, by behaviour: whatever compare_digest says decides, no `==` or length check first."""
    compared: list[tuple[bytes, bytes]] = []

    def compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return verdict

    monkeypatch.setattr(hmac, "compare_digest", compare_digest)
    given = "short" if verdict else TOKEN
    if verdict:
        SCHEME.verify(TOKEN, {TOKEN_HEADER: given}, b"{}")
    else:
        with pytest.raises(BadSignatureError):
            SCHEME.verify(TOKEN, {TOKEN_HEADER: given}, b"{}")
    assert compared == [(given.encode(), TOKEN.encode())]


def test_there_is_no_timestamp_so_an_old_delivery_is_never_stale_and_parses_to_the_same_event() -> None:
    """No StaleTimestampError exists for Asaas: a replay is caught by the event id, not by time."""
    old = encode(notification("PAYMENT_RECEIVED", dateCreated="2019-01-02 03:04:05"))
    try:
        SCHEME.verify(TOKEN, {TOKEN_HEADER: TOKEN}, old)
    except StaleTimestampError:  # pragma: no cover - documents the absence
        pytest.fail("Asaas deliveries carry no signed timestamp; nothing can be stale")
    first, replayed = SCHEME.parse(old), SCHEME.parse(old)
    assert first == replayed and first.event_id == "evt_05b708f961d739ea7eba7e4db318f621&7686001"


# ----------------------------------------------------------------------------- parse


@pytest.mark.parametrize("event_type", sorted(PAYMENT_EVENTS))
def test_every_payment_event_lands_the_notification_and_its_payment(event_type: str) -> None:
    body = notification(event_type)
    raw = encode(body)
    event = SCHEME.parse(raw)
    pay = body["payment"]
    assert event.event_id == body["id"] and event.event_type == event_type
    assert event.occurred_at == datetime(2024, 11, 6, 18, 59, 27, tzinfo=BUSINESS_TZ)
    assert event.occurred_at.astimezone(UTC) == datetime(2024, 11, 6, 21, 59, 27, tzinfo=UTC)
    notice, landed = event.records
    assert notice == RawRecord("asaas_webhook_events", body["id"], raw, {"payment_id": pay["id"]})
    assert (landed.table, landed.external_id, landed.keys) == (
        "asaas_payments",
        pay["id"],
        {"external_reference": "order-1001"},
    )
    assert json.loads(bytes(landed.payload)) == pay, "the payment lands as the exact object Asaas sent"
    assert bytes(landed.payload) in raw


def test_the_events_the_brief_names_are_all_documented_payment_events() -> None:
    assert set(NAMED_PAYMENT_EVENTS) <= PAYMENT_EVENTS


@pytest.mark.parametrize("event_type", sorted(TRANSFER_EVENTS))
def test_every_transfer_event_lands_the_notification_and_its_transfer(event_type: str) -> None:
    body = notification(event_type)
    event = SCHEME.parse(encode(body))
    notice, landed = event.records
    assert notice.table == "asaas_webhook_events" and notice.keys == {"payment_id": None}
    assert (landed.table, landed.external_id, landed.keys) == (
        "asaas_transfers",
        body["transfer"]["id"],
        {"status": event_type.removeprefix("TRANSFER_")},
    )


@pytest.mark.parametrize(
    "body",
    [
        {"id": "evt_x&1", "event": "SOMETHING_ASAAS_ADDS_LATER", "dateCreated": "2024-11-06 18:59:27"},
        {"id": "evt_x&2", "event": "INVOICE_CREATED", "invoice": {"id": "inv_1", "value": 10}},
        {"id": "evt_x&3", "event": "PAYMENT_SPLIT_CANCELLED", "payment": {"id": "pay_9"}, "split": {"id": "s1"}},
        {"id": "evt_x&4", "event": "PAYMENT_SPLIT_DIVERGENCE_BLOCK", "payment": "not an object"},
    ],
    ids=["unknown", "invoice", "split-cancelled", "odd-payload"],
)
def test_an_event_without_a_documented_payload_still_lands_on_its_envelope(body: dict[str, Any]) -> None:
    raw = encode(body)
    event = SCHEME.parse(raw)
    payment_id = body["payment"]["id"] if isinstance(body.get("payment"), dict) else None
    assert event == NormalizedEvent(
        body["id"],
        body["event"],
        datetime(2024, 11, 6, 18, 59, 27, tzinfo=BUSINESS_TZ) if "dateCreated" in body else None,
        (RawRecord("asaas_webhook_events", body["id"], raw, {"payment_id": payment_id}),),
    )


def test_an_installment_with_its_split_parses_whichever_key_names_the_split() -> None:
    parcel = {
        "installment": "ins_000005113262",
        "installmentNumber": 3,
        "billingType": "CREDIT_CARD",
        "estimatedCreditDate": "2025-01-27",
        "creditDate": None,
    }
    split = [
        {"walletId": "wal_1", "fixedValue": 10.05, "status": "PENDING", "totalValue": 10.05},
        {"walletId": "wal_2", "percentualValue": 12.5, "totalValue": 3.88, "status": "AWAITING_CREDIT"},
    ]
    for key in ("split", "splits"):
        body = notification("PAYMENT_CONFIRMED", payment=payment(**parcel, **{key: split}))
        event = SCHEME.parse(encode(body))
        assert event.records[1].external_id == "pay_6egmyz6lpfxazko3"
    with pytest.raises(WebhookPayloadError, match="walletId"):
        SCHEME.parse(encode(notification("PAYMENT_CONFIRMED", payment=payment(split=[{"fixedValue": 1}]))))


def _without(body: dict[str, Any], *path: str) -> bytes:
    copy = json.loads(json.dumps(body))
    node = copy
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return encode(copy)


def _with_payment(**fields: Any) -> bytes:
    return encode(notification("PAYMENT_RECEIVED", payment=payment(**fields)))


RECEIVED = notification("PAYMENT_RECEIVED")
DONE = notification("TRANSFER_DONE")


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (b"", "notification"),
        (b"not json", "notification"),
        (b'{"id": "evt_1", "event": "PAYMENT_RECEIVED", "payment": {"id": ', "notification"),  # truncated
        (b"[]", "Expected `object`"),
        (b'{"id": "evt_\xff", "event": "PAYMENT_RECEIVED"}', "notification"),  # not UTF-8
        (_without(RECEIVED, "id"), "`id`"),
        (encode({**RECEIVED, "id": ""}), "`\\$.id`"),
        (encode({**RECEIVED, "id": 42}), "`\\$.id`"),
        (_without(RECEIVED, "event"), "`event`"),
        (encode({**RECEIVED, "dateCreated": "yesterday"}), "`\\$.dateCreated`"),
        (encode({**RECEIVED, "dateCreated": "2024-02-30 10:00:00"}), "is not a date"),
        (_without(RECEIVED, "payment"), "PAYMENT_RECEIVED notification has no `payment`"),
        (encode({**RECEIVED, "payment": None}), "PAYMENT_RECEIVED notification has no `payment`"),
        (encode({**RECEIVED, "payment": []}), "payment is not the documented shape"),
        (_without(RECEIVED, "payment", "id"), "`id`"),
        (_without(RECEIVED, "payment", "value"), "`value`"),
        (_without(RECEIVED, "payment", "netValue"), "`netValue`"),
        (_without(RECEIVED, "payment", "status"), "`status`"),
        (_with_payment(value="131,8,9"), "`\\$.value`"),
        (_with_payment(value="NaN"), "`value` is not a finite amount"),
        (_with_payment(value=None), "`\\$.value`"),
        (_with_payment(dueDate="09/11/2024"), "`\\$.dueDate`"),
        (_with_payment(installmentNumber="3"), "`\\$.installmentNumber`"),
        (_with_payment(refunds=[{"status": "DONE"}]), "`value`"),
        (_without(DONE, "transfer"), "TRANSFER_DONE notification has no `transfer`"),
        (_without(DONE, "transfer", "value"), "`value`"),
    ],
)
def test_a_body_that_is_not_the_documented_shape_is_a_payload_error(raw: bytes, names: str) -> None:
    with pytest.raises(WebhookPayloadError, match=f"^asaas: .*{names}") as raised:
        SCHEME.parse(raw)
    assert isinstance(raised.value, WebhookError) and raised.value.http_status == 400


# ------------------------------------------------------------------ where records land


def test_the_provider_declares_the_scheme_and_the_registry_creates_its_tables() -> None:
    assert isinstance(AsaasProvider.webhook, AsaasWebhook)
    assert AsaasWebhook.raw_tables == {
        "asaas_webhook_events": "payment_id",
        "asaas_payments": "external_reference",
        "asaas_transfers": "status",
    }
    assert {t: RAW_TABLES[t] for t in AsaasProvider.landing_tables()} == {
        "asaas_payments": "external_reference",
        "asaas_transfers": "status",
        "asaas_financial_transactions": "payment_id",
        "asaas_webhook_events": "payment_id",
    }


def test_notifications_land_once_however_often_asaas_redelivers_with_exact_amounts(clean_warehouse: str) -> None:
    bodies = [notification(e, n) for n, e in enumerate(NAMED_PAYMENT_EVENTS)]
    bodies[0]["payment"]["value"] = 1234567.89
    bodies[1]["payment"]["netValue"] = 1.005
    bodies.append(notification("TRANSFER_DONE", 99))
    events = [SCHEME.parse(encode(body)) for body in bodies]
    records = [record for event in events for record in event.records]
    with psycopg.connect(clean_warehouse) as conn:
        first = raw_writer.write(conn, records, tenant_id="t1", integration_id=7, sync_run_id=None, source="webhook")
        again = raw_writer.write(conn, records, tenant_id="t1", integration_id=7, sync_run_id=None, source="webhook")
        conn.commit()
        notices = conn.execute("select external_id, payment_id, payload ->> 'event' from raw.asaas_webhook_events")
        notice_rows = sorted(notices.fetchall())
        amounts = conn.execute(
            "select external_id, external_reference, (payload ->> 'value')::numeric, (payload ->> 'netValue')::numeric "
            "from raw.asaas_payments"
        ).fetchall()
        transfers = conn.execute("select external_id, status from raw.asaas_transfers").fetchall()
    # Every payment event carries the same payment in a new state: each state is a new version.
    assert (first.rows_written, again.rows_written) == (len(bodies) * 2, 0)
    assert notice_rows == sorted((b["id"], b["payment"]["id"] if "payment" in b else None, b["event"]) for b in bodies)
    assert ("pay_6egmyz6lpfxazko3", "order-1001", Decimal("1234567.89"), Decimal("41.24")) in amounts
    assert ("pay_6egmyz6lpfxazko3", "order-1001", Decimal("42.23"), Decimal("1.005")) in amounts
    assert transfers == [("777eb7c8-b1a2-4356-8fd8-a1b0644b5282", "DONE")]
