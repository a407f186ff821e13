"""Kiwify's webhook scheme: `?signature=` (HMAC-SHA1 of the raw body), and every documented notification parsed.

Kiwify publishes no library that signs notifications, so deliveries are signed here with the
standard library's `hmac` (an implementation independent of ours), as Kiwify's docs describe it
("Receber e validar webhooks": lower-case hex HMAC-SHA1 of the body exactly as sent, keyed with the
webhook token), and our HMAC is held to RFC 2202's HMAC-SHA1 test vectors. Kiwify's own test vector
could not be retrieved (see the package docstring). Bodies follow
`../shared/reference/providers-gateways.md` §7.2. There is no timestamp in the scheme: a replay is
not stale, it parses to the same event id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from plugins.providers.base import BUSINESS_TZ, KnownIds, NormalizedEvent, RawRecord
from plugins.providers.errors import BadSignatureError, MissingHeaderError, WebhookError, WebhookPayloadError
from plugins.providers.kiwify.provider import FINAL_STATUSES, KiwifyProvider
from plugins.providers.kiwify.webhook import CART_ABANDONED, EVENT_TYPES, SIGNATURE_PARAMETER, KiwifyWebhook
from plugins.providers.registry import RAW_TABLES
from plugins.providers.webhooks import hmac_digest

SECRET = "kiwify-webhook-token-7c1e9a3f5b2d4e6a"
SCHEME = KiwifyWebhook()
ORDER = "b6ba3959-30b5-44fc-a3e5-2c61e3d68ee5"

# webhook_event_type -> the order_status it comes with (reference §7.2; third-party receivers)
EVENTS = {
    "order_approved": "paid",
    "order_rejected": "refused",
    "order_refunded": "refunded",
    "chargeback": "chargedback",
    "billet_created": "waiting_payment",
    "pix_created": "waiting_payment",
    "subscription_renewed": "paid",
    "subscription_late": "waiting_payment",
    "subscription_canceled": "paid",
}


def sign(body: bytes, secret: str = SECRET) -> str:
    """What Kiwify appends as `?signature=`: computed with the standard library, not our helper."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def notification(event_type: str = "order_approved", **extra: Any) -> dict[str, Any]:
    status = EVENTS.get(event_type, "paid")
    return {
        "order_id": ORDER,
        "order_ref": "iYJwhMP",
        "order_status": status,
        "product_type": "membership",
        "payment_method": "credit_card",
        "store_id": "XvS0qfkdzCZTg8z",
        "payment_merchant_id": 1234567,
        "installments": 3,
        "card_type": "mastercard",
        "card_last4digits": "1115",
        "sale_type": "producer",
        "created_at": "2026-04-22 03:05",
        "updated_at": "2026-04-22 03:07",
        "approved_date": "2026-04-22 03:07" if status == "paid" else None,
        "refunded_at": "2026-04-29 10:15" if status in ("refunded", "chargedback") else None,
        "webhook_event_type": event_type,
        "Product": {"product_id": "aaa86f40-d7ae-11ed-acc6-e1c45591a30e", "product_name": "Curso de Conciliação"},
        "Customer": {"full_name": "João da Silva", "email": "joao@example.com", "CPF": "12345678909"},
        "Commissions": {
            "charge_amount": 10388,
            "product_base_price": 9900,
            "product_base_price_currency": "BRL",
            "kiwify_fee": 984,
            "kiwify_fee_currency": "BRL",
            "settlement_amount": 9404,
            "commissioned_stores": [
                {"id": "RpL2PsVt7gEN50Q", "type": "producer", "custom_name": "Produtora", "value": "8853"},
                {"id": "Aff0000000000001", "type": "affiliate", "affiliate_id": "a1", "value": "551"},
            ],
            "currency": "BRL",
            "my_commission": 8853,
            "funds_status": "waiting",
            "estimated_deposit_date": "2026-05-22T03:07:00.000Z",
            "deposit_date": None,
        },
        "TrackingParameters": {"src": None, "sck": None, "utm_source": "instagram", "s1": None},
        "Subscription": {
            "id": "sub-9f8e7d",
            "start_date": "2026-04-22T06:05:00.000Z",
            "next_payment": "2026-05-22T06:05:00.000Z",
            "status": "active",
            "plan": {"id": "plan-1", "name": "Mensal", "frequency": "monthly", "qty_charges": 0},
        },
        "subscription_id": "sub-9f8e7d",
        **extra,
    }


def cart(**extra: Any) -> dict[str, Any]:
    return {
        "id": "cart-5e4d3c2b",
        "status": "abandoned",
        "checkout_link": "https://pay.kiwify.com.br/gOjcexD",
        "email": "maria@example.com",
        "name": "Maria Souza",
        "phone": "+5511999999999",
        "product_id": "aaa86f40-d7ae-11ed-acc6-e1c45591a30e",
        "product_name": "Curso de Conciliação",
        "store_id": "XvS0qfkdzCZTg8z",
        "created_at": "2026-04-22 03:05",
        **extra,
    }


# ------------------------------------------------------------------------------ verify


@pytest.mark.parametrize(
    ("key", "data", "digest"),
    [
        # RFC 2202 ("Test Cases for HMAC-MD5 and HMAC-SHA-1"), section 3, test cases 1 and 2
        ("\x0b" * 20, b"Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"),
        ("Jefe", b"what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
    ],
)
def test_the_hmac_is_rfc_2202s_hmac_sha1_and_verifies(key: str, data: bytes, digest: str) -> None:
    assert hmac_digest(key, data, algorithm="sha1", encoding="hex") == digest
    SCHEME.verify(key, {}, data, query={SIGNATURE_PARAMETER: digest})


@pytest.mark.parametrize("event_type", sorted(EVENTS))
def test_a_delivery_signed_as_kiwify_signs_verifies(event_type: str) -> None:
    body = body_of(notification(event_type))
    SCHEME.verify(SECRET, {"content-type": "application/json"}, body, query={SIGNATURE_PARAMETER: sign(body)})


def test_the_signature_is_read_from_the_query_and_headers_are_not_needed() -> None:
    body = body_of(notification())
    SCHEME.verify(SECRET, {}, body, query={"other": "1", SIGNATURE_PARAMETER: sign(body)})
    SCHEME.verify(SECRET, {}, body, query={SIGNATURE_PARAMETER: sign(body).upper()})  # the same MAC


def test_a_tampered_body_is_a_bad_signature() -> None:
    body = body_of(notification())
    signature = sign(body)
    tampered = body.replace(b'"charge_amount":10388', b'"charge_amount":99999')
    assert tampered != body
    with pytest.raises(BadSignatureError, match="not the body's HMAC"):
        SCHEME.verify(SECRET, {}, tampered, query={SIGNATURE_PARAMETER: signature})


def test_the_raw_bytes_are_signed_not_a_re_encoding() -> None:
    """Kiwify's docs: never sign the JSON after parsing and serialising it again."""
    body = body_of(notification())
    re_encoded = json.dumps(json.loads(body)).encode()  # spaces after separators, accents escaped
    assert re_encoded != body
    with pytest.raises(BadSignatureError):
        SCHEME.verify(SECRET, {}, body, query={SIGNATURE_PARAMETER: sign(re_encoded)})


@pytest.mark.parametrize("wrong", ["another-token", SECRET[:-1], SECRET + "0", SECRET.upper(), "tóken-não-ascii"])
def test_a_wrong_secret_is_a_bad_signature_that_names_neither_secret_nor_signature(wrong: str) -> None:
    body = body_of(notification())
    signature = sign(body, wrong)
    with pytest.raises(BadSignatureError) as raised:
        SCHEME.verify(SECRET, {}, body, query={SIGNATURE_PARAMETER: signature})
    message = str(raised.value)
    assert SECRET not in message and wrong not in message and signature not in message
    assert raised.value.http_status == 401


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, {}),
        ({"X-Kiwify-Signature": "sig"}, {}),  # third-party guesses; not where Kiwify puts it
        ({}, {"Signature": "sig"}),
        ({}, {"token": SECRET}),
    ],
)
def test_a_missing_signature_parameter_is_a_missing_header_error(
    headers: dict[str, str], query: dict[str, str]
) -> None:
    body = body_of(notification())
    if "sig" in headers.values() or "sig" in query.values():
        headers = {k: sign(body) for k in headers}
        query = {k: sign(body) for k in query}
    with pytest.raises(MissingHeaderError, match="no signature query parameter"):
        SCHEME.verify(SECRET, headers, body, query=query)


@pytest.mark.parametrize("given", ["", "xyz", "0" * 39, "0" * 41, "g" * 40, " " + "0" * 39, "0" * 64])
def test_a_signature_that_is_not_40_hex_digits_is_a_bad_signature(given: str) -> None:
    with pytest.raises(BadSignatureError, match="not a hex HMAC-SHA1"):
        SCHEME.verify(SECRET, {}, b"{}", query={SIGNATURE_PARAMETER: given})


def test_an_integration_without_a_token_verifies_nothing() -> None:
    """Kiwify signs with an empty key when a webhook has no token: such a signature proves nothing."""
    body = body_of(notification())
    with pytest.raises(ValueError, match="no webhook secret is configured"):
        SCHEME.verify("", {}, body, query={SIGNATURE_PARAMETER: sign(body, "")})


def test_the_scheme_has_no_timestamp_so_a_replay_is_not_stale_but_the_same_event() -> None:
    """Nothing in a Kiwify request says when it was signed: a delivery replayed a month later
    verifies (no StaleTimestampError is possible) and parses to the original's event id, on which
    the landing deduplicates."""
    body = body_of(notification("order_approved"))
    query = {SIGNATURE_PARAMETER: sign(body)}
    SCHEME.verify(SECRET, {"date": "Mon, 01 Jan 2024 00:00:00 GMT"}, body, query=query)
    SCHEME.verify(SECRET, {}, body, query=query)
    assert SCHEME.parse(body).event_id == SCHEME.parse(body).event_id == f"{ORDER}:order_approved"


# ------------------------------------------------------------------------------- parse


def test_the_documented_event_types_are_the_reference_list() -> None:
    assert set(EVENTS) == EVENT_TYPES


@pytest.mark.parametrize("event_type", sorted(EVENTS))
def test_every_documented_event_type_becomes_one_event_record(event_type: str) -> None:
    raw = body_of(notification(event_type))
    event = SCHEME.parse(raw)
    assert event == NormalizedEvent(
        event_id=f"{ORDER}:{event_type}",
        event_type=event_type,
        occurred_at=datetime(2026, 4, 22, 3, 7, tzinfo=BUSINESS_TZ),  # updated_at, São Paulo wall time
        records=(RawRecord("kiwify_webhook_events", f"{ORDER}:{event_type}", raw, {"order_id": ORDER}),),
        source="webhook",
    )
    assert event.occurred_at is not None and event.occurred_at.astimezone(UTC) == datetime(
        2026, 4, 22, 6, 7, tzinfo=UTC
    )
    assert event.records[0].payload == raw, "lands byte for byte"


def test_a_redelivery_is_the_same_event_and_a_later_event_of_the_order_a_new_one() -> None:
    approved = SCHEME.parse(body_of(notification("order_approved")))
    again = SCHEME.parse(body_of(notification("order_approved", updated_at="2026-04-22 03:09")))
    refunded = SCHEME.parse(body_of(notification("order_refunded")))
    assert approved.event_id == again.event_id != refunded.event_id
    assert approved.records[0].keys == refunded.records[0].keys == {"order_id": ORDER}


def test_a_renewal_sends_two_events_for_one_new_order() -> None:
    """Kiwify: each renewal charge is a new order, notified as a purchase and as a subscription event."""
    renewal = "c0ffee00-0000-4000-8000-000000000002"
    purchase = SCHEME.parse(body_of(notification("order_approved", order_id=renewal)))
    subscription = SCHEME.parse(body_of(notification("subscription_renewed", order_id=renewal)))
    assert {purchase.event_id, subscription.event_id} == {
        f"{renewal}:order_approved",
        f"{renewal}:subscription_renewed",
    }


def test_the_order_wrapped_in_an_order_object_is_read_too_and_lands_as_sent() -> None:
    raw = body_of({"order": notification("order_refunded")})
    event = SCHEME.parse(raw)
    assert (event.event_id, event.event_type) == (f"{ORDER}:order_refunded", "order_refunded")
    assert event.records[0].payload == raw and event.records[0].keys == {"order_id": ORDER}


def test_the_cart_abandonment_body_is_its_own_event_about_no_order() -> None:
    raw = body_of(cart())
    event = SCHEME.parse(raw)
    assert event == NormalizedEvent(
        event_id=f"cart-5e4d3c2b:{CART_ABANDONED}",
        event_type=CART_ABANDONED,
        occurred_at=datetime(2026, 4, 22, 3, 5, tzinfo=BUSINESS_TZ),
        records=(RawRecord("kiwify_webhook_events", f"cart-5e4d3c2b:{CART_ABANDONED}", raw, {"order_id": None}),),
    )


def test_an_event_type_kiwify_adds_later_lands_held_to_the_order_fields() -> None:
    event = SCHEME.parse(body_of(notification("order_partially_refunded")))
    assert event.event_type == "order_partially_refunded" and event.event_id == f"{ORDER}:order_partially_refunded"


def test_a_notification_without_dates_has_no_event_time() -> None:
    payload = notification()
    for name in ("created_at", "updated_at", "approved_date", "refunded_at"):
        payload.pop(name)
    assert SCHEME.parse(body_of(payload)).occurred_at is None


def test_iso_dates_with_an_offset_are_read_as_written() -> None:
    event = SCHEME.parse(body_of(notification(updated_at="2026-04-22T06:07:00.000Z")))
    assert event.occurred_at == datetime(2026, 4, 22, 6, 7, tzinfo=UTC)


def _without(field: str) -> bytes:
    payload = notification()
    del payload[field]
    return body_of(payload)


def _with(**fields: Any) -> bytes:
    return body_of(notification(**fields))


def _commissions(**fields: Any) -> bytes:
    payload = notification()
    payload["Commissions"] = {**payload["Commissions"], **fields}
    return body_of(payload)


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (b"", "not a JSON object"),
        (b"not json", "not a JSON object"),
        (b"[]", "not a JSON object"),
        (b'{"order_id": "a1", "order_status": ', "not a JSON object"),  # truncated
        (b'{"order_id": "\xff"}', "not a JSON object"),  # not UTF-8
        (_without("order_id"), "`order_id`"),
        (_without("order_status"), "`order_status`"),
        (_without("webhook_event_type"), "`webhook_event_type`"),
        (_with(order_id=""), r"`\$.order_id`"),
        (_with(order_id=42), r"`\$.order_id`"),
        (_with(order_id="../../v1/payouts"), r"`\$.order_id`"),
        (_with(order_status=""), r"`\$.order_status`"),
        (_with(webhook_event_type=None), r"`\$.webhook_event_type`"),
        (_with(installments="3x"), r"`\$.installments`"),
        (_commissions(charge_amount=103.88), r"`\$.Commissions.charge_amount`"),  # reais where centavos are documented
        (_commissions(charge_amount=10388.0), r"`\$.Commissions.charge_amount`"),
        (_commissions(kiwify_fee="9,84"), r"`\$.Commissions.kiwify_fee`"),
        (_commissions(my_commission=-8853), r"`\$.Commissions.my_commission`"),
        (_commissions(commissioned_stores=[{"type": "producer", "value": "88.53"}]), r"commissioned_stores\[0\].value"),
        (_with(Product="Curso"), r"`\$.Product`"),
        (_with(updated_at="22/04/2026 03:07"), "`updated_at` is not a date"),
        (_with(approved_date="2026-04-22"), "`approved_date` is not a date"),
        (_with(refunded_at="ontem"), "`refunded_at` is not a date"),
        (body_of(cart(id="")), r"cart-abandonment notification .*`\$.id`"),
        (body_of({"status": "abandoned"}), "cart-abandonment notification .*`id`"),
    ],
)
def test_a_body_that_is_not_the_documented_shape_is_a_payload_error(raw: bytes, names: str) -> None:
    with pytest.raises(WebhookPayloadError, match=f"^kiwify: .*{names}") as raised:
        SCHEME.parse(raw)
    assert isinstance(raised.value, WebhookError) and raised.value.http_status == 400


# ------------------------------------------------------------------ where records land


def test_the_provider_declares_its_scheme_tables_and_known_ids() -> None:
    assert isinstance(KiwifyProvider.webhook, KiwifyWebhook)
    assert KiwifyWebhook.raw_tables == {"kiwify_webhook_events": "order_id"}
    assert KiwifyProvider.landing_tables() == {
        "kiwify_sales": "status",
        "kiwify_payouts": "status",
        "kiwify_webhook_events": "order_id",
    }
    assert {t: RAW_TABLES[t] for t in KiwifyProvider.landing_tables()} == KiwifyProvider.landing_tables()
    assert KiwifyProvider.credential_fields == ("client_id", "client_secret", "account_id")
    assert KiwifyProvider.secret_fields == ("client_secret",)
    assert KiwifyProvider.external_id_fields == ("payout_documents",)
    assert KiwifyProvider.known_ids_from == KnownIds(
        seen_in={"kiwify_sales": "external_id", "kiwify_webhook_events": "order_id"},
        status_in=("kiwify_sales", "status"),
        final_statuses=frozenset({"paid", "refunded", "chargedback", "refused"}),
    )
    assert FINAL_STATUSES.isdisjoint({"approved", "authorized", "pending", "processing", "waiting_payment"})
    assert FINAL_STATUSES.isdisjoint({"refund_requested", "pending_refund"})
