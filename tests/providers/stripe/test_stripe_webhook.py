"""Stripe's webhook scheme: `Stripe-Signature` verified, and every documented event parsed.

Deliveries are signed with the official library (stripe-python's
`WebhookSignature.generate_signature_header`, the helper Stripe ships for signing test payloads)
and verified with our scheme; every delivery we accept is also accepted by stripe-python's own
`verify_header`, so the two readings of the scheme cannot drift apart. Event types are checked
against the SDK's `Event.type` enum, so a misspelt type here fails.
"""

from __future__ import annotations

import hmac
import json
import typing
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg
import pytest
import stripe

from ingestion import raw_writer
from plugins.providers.base import NormalizedEvent, RawRecord
from plugins.providers.errors import (
    BadSignatureError,
    MissingHeaderError,
    StaleTimestampError,
    WebhookError,
    WebhookPayloadError,
)
from plugins.providers.registry import RAW_TABLES
from plugins.providers.stripe.provider import StripeProvider
from plugins.providers.stripe.webhook import SIGNATURE_HEADER, StripeWebhook

SECRET = "whsec_test_9f2c4e7a1b3d5f60c8e2a4b6d8f0a1c3"
NOW = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)
T = int(NOW.timestamp())
SCHEME = StripeWebhook(now=lambda: NOW)
PI = "pi_3QaBcDeFgHiJkLmN0a1b2c3d"
CHARGE = "ch_3QaBcDeFgHiJkLmN0x9y8z7w"


def signed(body: bytes, *, secret: str = SECRET, at: int = T) -> dict[str, str]:
    """Headers of a delivery signed by the official library at Unix second `at`."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: stripe.WebhookSignature.generate_signature_header(body.decode(), secret, at),
    }


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


# ------------------------------------------------------------------------------ objects


def balance_transaction(**extra: Any) -> dict[str, Any]:
    return {
        "id": "txn_3QaBcDeFgHiJkLmN0dsp1",
        "object": "balance_transaction",
        "amount": -1999,
        "available_on": T,
        "created": T - 60,
        "currency": "brl",
        "description": "Chargeback withdrawal for ch_3QaBcDeFgHiJkLmN0x9y8z7w",
        "exchange_rate": None,
        "fee": 1500,
        "fee_details": [
            {"amount": 1500, "application": None, "currency": "brl", "description": "Dispute fee", "type": "stripe_fee"}
        ],
        "net": -3499,
        "reporting_category": "dispute",
        "source": "du_1QaBcDeFgHiJkLmN",
        "status": "available",
        "type": "adjustment",
        **extra,
    }


def charge(**extra: Any) -> dict[str, Any]:
    return {
        "id": CHARGE,
        "object": "charge",
        "amount": 1999,
        "amount_captured": 1999,
        "amount_refunded": 0,
        "application_fee_amount": None,
        "balance_transaction": "txn_3QaBcDeFgHiJkLmN0chg1",
        "billing_details": {"email": None, "name": "Maria Souza"},
        "captured": True,
        "created": T - 60,
        "currency": "brl",
        "description": "Pedido 1042",
        "disputed": False,
        "failure_code": None,
        "livemode": False,
        "metadata": {"order_id": "1042"},
        "paid": True,
        "payment_intent": PI,
        "refunded": False,
        "status": "succeeded",
        **extra,
    }


def refund(**extra: Any) -> dict[str, Any]:
    return {
        "id": "re_3QaBcDeFgHiJkLmN0r1",
        "object": "refund",
        "amount": 500,
        "balance_transaction": "txn_3QaBcDeFgHiJkLmN0ref1",
        "charge": CHARGE,
        "created": T - 30,
        "currency": "brl",
        "metadata": {},
        "payment_intent": PI,
        "reason": "requested_by_customer",
        "status": "succeeded",
        **extra,
    }


def dispute(**extra: Any) -> dict[str, Any]:
    return {
        "id": "du_1QaBcDeFgHiJkLmN",
        "object": "dispute",
        "amount": 1999,
        "balance_transactions": [balance_transaction()],
        "charge": CHARGE,
        "created": T - 60,
        "currency": "brl",
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": PI,
        "reason": "fraudulent",
        "status": "needs_response",
        **extra,
    }


def payout(**extra: Any) -> dict[str, Any]:
    return {
        "id": "po_1QaBcDeFgHiJkLmN",
        "object": "payout",
        "amount": 123456789,
        "arrival_date": T + 86_400,
        "automatic": True,
        "balance_transaction": "txn_1QaBcDeFgHiJkLmNpo",
        "created": T - 120,
        "currency": "brl",
        "description": "STRIPE PAYOUT",
        "destination": "ba_1QaBcDeFgHiJkLmN",
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "method": "standard",
        "reconciliation_status": "completed",
        "statement_descriptor": None,
        "status": "pending",
        "type": "bank_account",
        **extra,
    }


def payment_intent(**extra: Any) -> dict[str, Any]:
    return {"id": PI, "object": "payment_intent", "amount": 1999, "currency": "brl", "status": "succeeded", **extra}


def event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_1Qa{event_type.replace('.', '_')}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": T - 5,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        **extra,
    }


# Every event type the brief names: (its object, the API table and key it also lands under, or None).
DOCUMENTED: dict[str, tuple[dict[str, Any], tuple[str, str, str | None] | None]] = {
    "charge.succeeded": (charge(), ("stripe_charges", "payment_intent", PI)),
    "charge.failed": (
        charge(
            status="failed",
            paid=False,
            captured=False,
            amount_captured=0,
            balance_transaction=None,
            failure_code="card_declined",
            payment_intent=None,
        ),
        ("stripe_charges", "payment_intent", None),
    ),
    "charge.refunded": (
        charge(refunded=True, amount_refunded=1999),
        ("stripe_charges", "payment_intent", PI),
    ),
    "charge.dispute.created": (dispute(), ("stripe_disputes", "charge", CHARGE)),
    "charge.dispute.closed": (dispute(status="lost"), ("stripe_disputes", "charge", CHARGE)),
    "payout.created": (payout(), ("stripe_payouts", "status", "pending")),
    "payout.paid": (payout(status="paid"), ("stripe_payouts", "status", "paid")),
    "payout.failed": (
        payout(status="failed", failure_code="account_closed", failure_balance_transaction="txn_1QaFail"),
        ("stripe_payouts", "status", "failed"),
    ),
    "payment_intent.succeeded": (payment_intent(), None),
    "payment_intent.payment_failed": (payment_intent(status="requires_payment_method"), None),
    "refund.created": (refund(status="pending"), ("stripe_refunds", "charge", CHARGE)),
}


# ---------------------------------------------------------------------------- verify


def test_a_delivery_signed_by_the_official_library_verifies() -> None:
    raw = body_of(event("charge.succeeded", charge()))
    headers = signed(raw)
    SCHEME.verify(SECRET, headers, raw)
    assert stripe.WebhookSignature.verify_header(raw, headers[SIGNATURE_HEADER], SECRET, tolerance=None)


@pytest.mark.parametrize("name", [SIGNATURE_HEADER, SIGNATURE_HEADER.lower(), SIGNATURE_HEADER.upper()])
def test_the_header_name_is_case_insensitive(name: str) -> None:
    raw = body_of(event("payout.paid", payout(status="paid")))
    SCHEME.verify(SECRET, {name: signed(raw)[SIGNATURE_HEADER]}, raw)


def test_the_signature_is_over_the_raw_bytes_not_a_re_encoding() -> None:
    """Whitespace, key order and non-ASCII text as Stripe sent them: re-encoding would break them."""
    raw = json.dumps(event("charge.succeeded", charge(description="Café com pão")), indent=2, ensure_ascii=False)
    raw_bytes = raw.encode()
    SCHEME.verify(SECRET, signed(raw_bytes), raw_bytes)
    reencoded = json.dumps(json.loads(raw_bytes)).encode()
    with pytest.raises(BadSignatureError):
        SCHEME.verify(SECRET, signed(raw_bytes), reencoded)


def test_any_v1_may_match_while_a_secret_is_rotated() -> None:
    raw = body_of(event("charge.succeeded", charge()))
    old = stripe.WebhookSignature._compute_signature(f"{T}.{raw.decode()}", "whsec_the_old_secret")
    new = stripe.WebhookSignature._compute_signature(f"{T}.{raw.decode()}", SECRET)
    for header in (f"t={T},v1={old},v1={new}", f"t={T},v1={new},v1={old}", f"t={T},v0={old},v1={new}"):
        SCHEME.verify(SECRET, {SIGNATURE_HEADER: header}, raw)
    with pytest.raises(BadSignatureError, match="no v1 signature in the Stripe-Signature header matches"):
        SCHEME.verify(SECRET, {SIGNATURE_HEADER: f"t={T},v1={old}"}, raw)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda raw: raw.replace(b'"amount":1999', b'"amount":9999'),
        lambda raw: raw + b" ",
        lambda raw: raw[:-1],
        lambda raw: b"",
    ],
    ids=["amount-changed", "trailing-space", "truncated", "empty"],
)
def test_a_tampered_body_is_a_bad_signature(tamper: Any) -> None:
    raw = body_of(event("charge.succeeded", charge()))
    headers = signed(raw)
    tampered = tamper(raw)
    assert tampered != raw
    with pytest.raises(BadSignatureError) as raised:
        SCHEME.verify(SECRET, headers, tampered)
    assert raised.value.http_status == 401
    with pytest.raises(stripe.SignatureVerificationError):  # the official reading agrees
        stripe.WebhookSignature.verify_header(tampered, headers[SIGNATURE_HEADER], SECRET, tolerance=None)


@pytest.mark.parametrize("wrong", ["whsec_not_the_secret", SECRET[:-1], SECRET + "0", SECRET.upper(), "whsec_sêcret"])
def test_a_wrong_secret_is_a_bad_signature_that_names_no_secret_or_signature(wrong: str) -> None:
    raw = body_of(event("charge.succeeded", charge()))
    headers = signed(raw, secret=wrong)
    with pytest.raises(BadSignatureError) as raised:
        SCHEME.verify(SECRET, headers, raw)
    message = str(raised.value)
    signature = headers[SIGNATURE_HEADER].split("v1=")[1]
    assert SECRET not in message and wrong not in message and signature not in message
    assert "Stripe-Signature" in message


def test_a_missing_header_is_a_missing_header_error() -> None:
    raw = body_of(event("charge.succeeded", charge()))
    value = signed(raw)[SIGNATURE_HEADER]
    for headers in ({}, {"Content-Type": "application/json"}, {"Stripe-Signatures": value}, {"X-Signature": value}):
        with pytest.raises(MissingHeaderError, match="no Stripe-Signature header"):
            SCHEME.verify(SECRET, headers, raw)


@pytest.mark.parametrize(
    ("header", "names"),
    [
        ("", "not a list of key=value pairs"),
        ("garbage", "not a list of key=value pairs"),
        (f"v1={'0' * 64}", "exactly one t= timestamp"),
        (f"t={T},t={T},v1={'0' * 64}", "exactly one t= timestamp"),
        (f"t=yesterday,v1={'0' * 64}", "timestamp is not whole seconds"),
        (f"t=-{T},v1={'0' * 64}", "timestamp is not whole seconds"),
        (f"t={T}", "has no v1 signature"),
        (f"t={T},v0={'0' * 64}", "has no v1 signature"),
    ],
)
def test_an_unreadable_header_is_a_bad_signature(header: str, names: str) -> None:
    with pytest.raises(BadSignatureError, match=names):
        SCHEME.verify(SECRET, {SIGNATURE_HEADER: header}, b"{}")


def test_an_integration_without_a_secret_verifies_nothing() -> None:
    raw = body_of(event("charge.succeeded", charge()))
    for secret in ("", "   "):
        with pytest.raises(ValueError, match="no webhook secret is configured"):
            SCHEME.verify(secret, signed(raw, secret=secret or "x"), raw)


@pytest.mark.parametrize(
    ("age_s", "stale"),
    [(0, False), (299, False), (300, False), (301, True), (3600, True), (-300, False), (-301, True)],
)
def test_the_timestamp_must_be_within_300_seconds(age_s: int, stale: bool) -> None:
    """Stripe's tolerance (`Webhook.DEFAULT_TOLERANCE`); a negative age is a timestamp in the future."""
    raw = body_of(event("charge.succeeded", charge()))
    headers = signed(raw, at=T - age_s)
    if stale:
        with pytest.raises(StaleTimestampError, match="beyond the 300s tolerance") as raised:
            SCHEME.verify(SECRET, headers, raw)
        assert raised.value.http_status == 401
    else:
        SCHEME.verify(SECRET, headers, raw)


def test_the_signature_is_checked_before_the_timestamp() -> None:
    """A forged request is a bad signature however old it claims to be: only an authentic delivery
    is ever told it is stale."""
    raw = body_of(event("charge.succeeded", charge()))
    with pytest.raises(BadSignatureError):
        SCHEME.verify(SECRET, signed(raw, secret="whsec_forged", at=T - 3600), raw)


def test_a_replayed_delivery_is_stale_past_the_tolerance_and_the_same_event_within_it() -> None:
    raw = body_of(event("charge.succeeded", charge(), event_id="evt_1QaReplayMe"))
    first = signed(raw, at=T - 10)
    SCHEME.verify(SECRET, first, raw)
    # The same request, replayed six minutes later.
    later = StripeWebhook(now=lambda: NOW + timedelta(minutes=6))
    with pytest.raises(StaleTimestampError):
        later.verify(SECRET, first, raw)
    # Stripe's own retry signs again with a new timestamp: it verifies, and is the same event.
    retry = signed(raw, at=T + 350)
    later.verify(SECRET, retry, raw)
    assert retry != first
    assert SCHEME.parse(raw).event_id == later.parse(raw).event_id == "evt_1QaReplayMe"


@pytest.mark.parametrize("verdict", [True, False])
def test_the_verdict_is_hmac_compare_digests_alone(monkeypatch: pytest.MonkeyPatch, verdict: bool) -> None:
    """Constant time, by behaviour: whatever compare_digest says is the verdict, and every v1 is compared."""
    raw = body_of(event("charge.succeeded", charge()))
    header = f"t={T},v1={'a' * 64},v1={'b' * 64}"
    compared: list[tuple[bytes, bytes]] = []

    def compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return verdict

    monkeypatch.setattr(hmac, "compare_digest", compare_digest)
    if verdict:
        SCHEME.verify(SECRET, {SIGNATURE_HEADER: header}, raw)
    else:
        with pytest.raises(BadSignatureError):
            SCHEME.verify(SECRET, {SIGNATURE_HEADER: header}, raw)
    assert [given for given, _ in compared] == [b"a" * 64, b"b" * 64]


# ----------------------------------------------------------------------------- parse


def test_the_event_types_are_stripes() -> None:
    enum = set(typing.get_args(stripe.Event.__annotations__["type"]))
    assert set(DOCUMENTED) <= enum, sorted(set(DOCUMENTED) - enum)


@pytest.mark.parametrize("event_type", sorted(DOCUMENTED))
def test_every_documented_event_lands_as_an_event_and_its_object_in_its_api_table(event_type: str) -> None:
    obj, api = DOCUMENTED[event_type]
    payload = event(event_type, obj)
    raw = body_of(payload)
    SCHEME.verify(SECRET, signed(raw), raw)
    parsed = SCHEME.parse(raw)
    expected: list[RawRecord] = [RawRecord("stripe_events", payload["id"], raw, {"type": event_type})]
    if api is not None:
        table, key_column, key = api
        expected.append(RawRecord(table, obj["id"], body_of(obj), {key_column: key}))
    assert parsed.event_id == payload["id"] and parsed.event_type == event_type
    assert parsed.occurred_at == datetime.fromtimestamp(T - 5, UTC) and parsed.occurred_at.tzinfo is not None
    assert parsed.source == "webhook"
    assert [(r.table, r.external_id, r.keys) for r in parsed.records] == [
        (r.table, r.external_id, r.keys) for r in expected
    ]
    # Both land byte for byte: the event as received, the object as it sits inside it.
    assert [bytes(r.payload) for r in parsed.records] == [bytes(r.payload) for r in expected]  # type: ignore[arg-type]


def test_unknown_types_and_objects_without_an_api_table_land_as_events_only() -> None:
    balance = {"object": "balance", "available": [{"amount": 10, "currency": "brl"}], "livemode": False}
    for event_type, obj in [
        ("balance.available", balance),  # the balance has no id
        ("payout.reconciliation_completed", payout(status="paid")),
        ("some.type_stripe_adds_later", {"object": "thing", "id": "thg_1"}),
        ("charge.refund.updated", refund()),
    ]:
        raw = body_of(event(event_type, obj))
        parsed = SCHEME.parse(raw)
        assert parsed.event_type == event_type
        assert parsed.records[0] == RawRecord(
            "stripe_events", f"evt_1Qa{event_type.replace('.', '_')}", raw, {"type": event_type}
        )
        # an object of a kind with an API table lands there whatever the event type
        assert [r.table for r in parsed.records[1:]] == (
            [] if obj["object"] in ("balance", "thing") else [f"stripe_{obj['object']}s"]
        )


def _event_with(**fields: Any) -> bytes:
    return body_of({**event("charge.succeeded", charge()), **fields})


def _charge_with(**fields: Any) -> bytes:
    return body_of(event("charge.succeeded", charge(**fields)))


def _charge_without(field: str) -> bytes:
    obj = charge()
    del obj[field]
    return body_of(event("charge.succeeded", obj))


def _event_without(field: str) -> bytes:
    payload = event("charge.succeeded", charge())
    del payload[field]
    return body_of(payload)


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (b"", "event is not"),
        (b"not json", "event is not"),
        (_event_with()[:-7], "event is not"),  # truncated
        (b"[]", "Expected `object`, got `array`"),
        (b'{"id": "evt_1", "object": "event", "type": "\xff"}', "event is not"),  # not UTF-8
        (_event_without("id"), "missing required field `id`"),
        (_event_without("type"), "missing required field `type`"),
        (_event_without("created"), "missing required field `created`"),
        (_event_without("data"), "missing required field `data`"),
        (_event_with(object="list"), r"`\$.object`"),
        (_event_with(id=""), r"`\$.id`"),
        (_event_with(created="2026-10-01T15:00:00Z"), r"`\$.created`"),
        (_event_with(data={}), "missing required field `object`"),
        (_event_with(data={"object": "ch_1"}), "data.object is not"),
        (_event_with(data={"object": {"id": "ch_1"}}), "missing required field `object`"),
        (_charge_with(amount=19.99), r"data.object \(charge\) .*Expected `int`, got `float` - at `\$.amount`"),
        (_charge_with(amount="1999"), r"Expected `int`, got `str` - at `\$.amount`"),
        (_charge_with(amount=None), r"`\$.amount`"),
        (_charge_with(currency="BRL"), r"`\$.currency`"),
        (_charge_with(payment_intent={"id": PI}), r"`\$.payment_intent`"),  # expanded: not what Stripe sends
        (_charge_without("amount"), "missing required field `amount`"),
        (_charge_without("payment_intent"), "missing required field `payment_intent`"),
        (body_of(event("charge.dispute.created", dispute(charge=None))), r"data.object \(dispute\).*`\$.charge`"),
        (
            body_of(event("charge.dispute.created", dispute(balance_transactions=[balance_transaction(net=-1999)]))),
            r"net -1999 is not amount -1999 - fee 1500",
        ),
        (body_of(event("payout.paid", payout(automatic="yes"))), r"`\$.automatic`"),
        (body_of(event("refund.created", {**refund(), "object": "refund", "amount": 5.0})), r"`\$.amount`"),
    ],
)
def test_a_body_that_is_not_the_documented_shape_is_a_payload_error(raw: bytes, names: str) -> None:
    with pytest.raises(WebhookPayloadError, match=f"^stripe: the .*{names}") as raised:
        SCHEME.parse(raw)
    assert isinstance(raised.value, WebhookError) and raised.value.http_status == 400


# ------------------------------------------------------------------ where records land


def test_the_provider_declares_its_scheme_and_every_table_it_lands_in() -> None:
    assert isinstance(StripeProvider.webhook, StripeWebhook)
    assert StripeWebhook.raw_tables == {
        "stripe_events": "type",
        "stripe_charges": "payment_intent",
        "stripe_refunds": "charge",
        "stripe_disputes": "charge",
        "stripe_payouts": "status",
    }
    assert StripeProvider.landing_tables() == {
        "stripe_charges": "payment_intent",
        "stripe_refunds": "charge",
        "stripe_disputes": "charge",
        "stripe_payouts": "status",
        "stripe_balance_transactions": "source_id",
        "stripe_payout_transactions": "payout_id",
        "stripe_events": "type",
    }
    assert all(RAW_TABLES[table] == key for table, key in StripeProvider.landing_tables().items())


def test_records_land_in_raw_once_however_often_stripe_redelivers(clean_warehouse: str) -> None:
    events: list[NormalizedEvent] = []
    for event_type, (obj, _) in DOCUMENTED.items():
        raw = body_of(event(event_type, obj))
        for delivery in range(3):  # Stripe retries: a new signature each time, the same body
            SCHEME.verify(SECRET, signed(raw, at=T - 100 * delivery), raw)
            events.append(SCHEME.parse(raw))
    records = [record for parsed in events for record in parsed.records]
    with psycopg.connect(clean_warehouse) as conn:
        written = raw_writer.write(conn, records, tenant_id="t1", integration_id=9, sync_run_id=None, source="webhook")
        again = raw_writer.write(conn, records, tenant_id="t1", integration_id=9, sync_run_id=None, source="webhook")
        conn.commit()
        landed = conn.execute("select external_id, type, source from raw.stripe_events order by external_id").fetchall()
        charges = conn.execute(
            "select external_id, payment_intent, (payload ->> 'amount')::bigint from raw.stripe_charges"
        ).fetchall()
    assert landed == sorted((event(t, o)["id"], t, "webhook") for t, (o, _) in DOCUMENTED.items())
    # Three charge events of one charge, three states: three versions of one charge, each once.
    assert sorted(charges, key=str) == sorted([(CHARGE, PI, 1999), (CHARGE, None, 1999), (CHARGE, PI, 1999)], key=str)
    distinct_objects = {bytes(r.payload) for r in records if r.table != "stripe_events"}  # type: ignore[arg-type]
    assert written.rows_written == len(DOCUMENTED) + len(distinct_objects)
    assert again.rows_written == 0


def test_landed_objects_are_the_bytes_inside_the_event() -> None:
    raw = body_of(event("charge.succeeded", charge()))
    _, charge_record = SCHEME.parse(raw).records
    assert isinstance(charge_record.payload, msgspec.Raw)
    assert bytes(charge_record.payload) in raw
    assert msgspec.json.decode(bytes(charge_record.payload)) == charge()
