"""PushinPay's webhook scheme: the `x-pushinpay-token` header, and every notification it documents parsed.

Notifications follow `../shared/reference/providers-gateways.md` §5.2 (third-party receivers:
`id, status, value, end_to_end_id, payer_name, payer_national_registration`, JSON or form-encoded).
PushinPay publishes no library that sends or signs notifications, so they are built here by hand.
There is no timestamp in the scheme: a replay is not stale, it parses to the same event id.
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from plugins.providers.base import NormalizedEvent, RawRecord
from plugins.providers.errors import BadSignatureError, MissingHeaderError, WebhookError, WebhookPayloadError
from plugins.providers.pushinpay.provider import PushinPayProvider
from plugins.providers.pushinpay.webhook import TOKEN_HEADER, PushinPayWebhook
from plugins.providers.registry import RAW_TABLES

SECRET = "whk-pushinpay-3f1c9a7e2b"
SCHEME = PushinPayWebhook()
TX = "9c29870c-9f69-4bb6-90d3-2dce9453bb45"


def notification(status: str, **extra: Any) -> dict[str, Any]:
    paid = {
        "end_to_end_id": "E18236120202610031435s0123456789",
        "payer_name": "João da Silva",
        "payer_national_registration": "12345678909",
    }
    return {"id": TX, "status": status, "value": 1005, **(paid if status != "created" else {}), **extra}


def as_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def as_form(payload: dict[str, Any]) -> bytes:
    return urlencode({k: "" if v is None else v for k, v in payload.items()}).encode()


STATUSES = ("created", "paid", "canceled", "expired", "refunded")


# ---------------------------------------------------------------------------- verify


@pytest.mark.parametrize("name", [TOKEN_HEADER, "X-PushinPay-Token", TOKEN_HEADER.upper()])
def test_the_webhook_token_verifies_whatever_the_header_names_case(name: str) -> None:
    SCHEME.verify(SECRET, {"content-type": "application/json", name: SECRET}, as_json(notification("paid")))


@pytest.mark.parametrize(
    "given",
    [
        "not-the-token",
        SECRET[:-1],
        SECRET + "0",
        SECRET[:-1] + ("0" if SECRET[-1] != "0" else "1"),
        SECRET.upper(),
        "",
        "tóken-não-ascii",
    ],
)
def test_a_wrong_token_is_a_bad_signature_that_names_neither_value(given: str) -> None:
    with pytest.raises(BadSignatureError) as raised:
        SCHEME.verify(SECRET, {TOKEN_HEADER: given}, as_json(notification("paid")))
    message = str(raised.value)
    assert "x-pushinpay-token header does not match" in message
    assert SECRET not in message and (not given or given not in message)
    assert raised.value.http_status == 401


def test_a_tampered_body_still_needs_the_token_and_is_then_parsed_as_sent() -> None:
    """No HMAC: the token authenticates the sender, not the bytes; what lands is what was sent."""
    tampered = as_json(notification("paid", value=999_999))
    SCHEME.verify(SECRET, {TOKEN_HEADER: SECRET}, tampered)
    with pytest.raises(BadSignatureError):
        SCHEME.verify(SECRET, {TOKEN_HEADER: "guess"}, tampered)
    assert SCHEME.parse(tampered).records[1].payload == tampered


def test_a_missing_header_is_a_missing_header_error() -> None:
    for headers in ({}, {"Authorization": f"Bearer {SECRET}"}, {"x-pushinpay-tokens": SECRET}):
        with pytest.raises(MissingHeaderError, match="no x-pushinpay-token header"):
            SCHEME.verify(SECRET, headers, b"{}")


def test_an_integration_without_a_token_verifies_nothing() -> None:
    with pytest.raises(ValueError, match="no webhook secret is configured"):
        SCHEME.verify("", {TOKEN_HEADER: ""}, b"{}")


@pytest.mark.parametrize("verdict", [True, False])
def test_the_verdict_is_hmac_compare_digests_alone(monkeypatch: pytest.MonkeyPatch, verdict: bool) -> None:
    compared: list[tuple[bytes, bytes]] = []

    def compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return verdict

    monkeypatch.setattr(hmac, "compare_digest", compare_digest)
    given = "short" if verdict else SECRET
    if verdict:
        SCHEME.verify(SECRET, {TOKEN_HEADER: given}, b"{}")
    else:
        with pytest.raises(BadSignatureError):
            SCHEME.verify(SECRET, {TOKEN_HEADER: given}, b"{}")
    assert compared == [(given.encode(), SECRET.encode())]


def test_the_scheme_has_no_timestamp_so_a_replay_is_not_stale_but_the_same_event() -> None:
    """Nothing in a PushinPay request says when it was sent: a delivery replayed a day later
    verifies, and parses to the event id of the original, which the landing deduplicates on."""
    original = as_json(notification("paid"))
    SCHEME.verify(SECRET, {TOKEN_HEADER: SECRET, "date": "Mon, 01 Jan 2024 00:00:00 GMT"}, original)
    assert SCHEME.parse(original).event_id == SCHEME.parse(original).event_id == f"{TX}:paid"


# ----------------------------------------------------------------------------- parse


@pytest.mark.parametrize("status", STATUSES)
def test_every_documented_status_becomes_an_event_and_the_transaction(status: str) -> None:
    raw = as_json(notification(status))
    event = SCHEME.parse(raw)
    assert event == NormalizedEvent(
        event_id=f"{TX}:{status}",
        event_type=status,
        occurred_at=None,  # PushinPay's bodies carry no event time
        records=(
            RawRecord("pushinpay_webhook_events", f"{TX}:{status}", raw, {"transaction_id": TX}),
            RawRecord("pushinpay_transactions", TX, raw, {"status": status}),
        ),
        source="webhook",
    )
    assert all(record.payload == raw for record in event.records), "JSON lands byte for byte"


@pytest.mark.parametrize("status", STATUSES)
def test_a_form_encoded_notification_lands_as_the_object_of_its_fields(status: str) -> None:
    payload = notification(status)
    event = SCHEME.parse(as_form(payload))
    fields = {key: str(value) for key, value in payload.items()}
    assert event.event_id == f"{TX}:{status}" and event.event_type == status
    assert [(r.table, r.external_id, r.payload, dict(r.keys)) for r in event.records] == [
        ("pushinpay_webhook_events", f"{TX}:{status}", fields, {"transaction_id": TX}),
        ("pushinpay_transactions", TX, fields, {"status": status}),
    ]
    assert list(event.records[0].payload) == list(payload), "the fields in the order sent"


def test_json_and_form_are_told_apart_by_content_alone() -> None:
    assert SCHEME.parse(b'  \n{"id": "a1", "status": "paid", "value": 50}').records[0].payload.startswith(b"  \n{")
    assert SCHEME.parse(b"id=a1&status=paid&value=50").records[0].payload == {
        "id": "a1",
        "status": "paid",
        "value": "50",
    }
    bracketed = SCHEME.parse(b"id=a1&status=paid&value=80&split_rules%5B0%5D%5Bvalue%5D=30")
    assert bracketed.records[1].payload["split_rules[0][value]"] == "30"


def test_a_redelivery_is_the_same_event_and_a_later_status_a_new_one() -> None:
    paid = SCHEME.parse(as_json(notification("paid")))
    again = SCHEME.parse(as_form(notification("paid")))
    refunded = SCHEME.parse(as_json(notification("refunded")))
    assert paid.event_id == again.event_id != refunded.event_id
    assert paid.records[1].external_id == refunded.records[1].external_id == TX


def test_ids_land_lower_cased_whatever_case_pushinpay_writes() -> None:
    event = SCHEME.parse(as_json(notification("paid", id=TX.upper())))
    assert event.event_id == f"{TX}:paid"
    assert [(r.external_id, dict(r.keys)) for r in event.records] == [
        (f"{TX}:paid", {"transaction_id": TX}),
        (TX, {"status": "paid"}),
    ]
    assert TX.upper().encode() in event.records[0].payload, "the payload keeps what was sent"


def test_a_notification_without_its_value_is_an_event_only() -> None:
    raw = as_json({"id": TX, "status": "refunded"})
    event = SCHEME.parse(raw)
    assert event.records == (RawRecord("pushinpay_webhook_events", f"{TX}:refunded", raw, {"transaction_id": TX}),)


def _json_with(**fields: Any) -> bytes:
    return as_json({**notification("paid"), **fields})


def _json_without(field: str) -> bytes:
    payload = notification("paid")
    del payload[field]
    return as_json(payload)


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (b"", "form notification .*`id`"),
        (b"not json", "neither a JSON object nor a form"),
        (b"[]", "neither a JSON object nor a form"),
        (b'{"id": "a1", "status": "paid", "value": ', "JSON notification"),  # truncated
        (b'{"id": "a1", "status": "\xff"}', "JSON notification"),  # not UTF-8
        (_json_without("id"), "`id`"),
        (_json_without("status"), "`status`"),
        (_json_with(id=""), r"`\$.id`"),
        (_json_with(id=42), r"`\$.id`"),
        (_json_with(id="../../api/pix/cashIn"), r"`\$.id`"),
        (_json_with(status=""), r"`\$.status`"),
        (_json_with(status=None), r"`\$.status`"),
        (_json_with(value=10.05), r"`\$.value`"),  # reais where centavos are documented
        (_json_with(value=1.005), r"`\$.value`"),
        (_json_with(value=1005.0), r"`\$.value`"),
        (_json_with(value=-1005), r"`\$.value`"),
        (_json_with(value="10,05"), r"`\$.value`"),
        (_json_with(value="10.05"), r"`\$.value`"),
        (_json_with(payer_name=7), r"`\$.payer_name`"),
        (b"id=a1&value=50", "form notification .*`status`"),
        (b"id=a1&status=paid&value=10.05", r"form notification .*`\$.value`"),
        (b"id=a1&status=paid&status=refunded", "'status' appears more than once"),
        (b"id=a1&status=paid&value=%FF", "not UTF-8|neither"),
        (b"id=a1&status=paid&\xff=1", "not UTF-8"),
    ],
)
def test_a_body_that_is_not_the_documented_shape_is_a_payload_error(raw: bytes, names: str) -> None:
    with pytest.raises(WebhookPayloadError, match=f"^pushinpay: .*{names}") as raised:
        SCHEME.parse(raw)
    assert isinstance(raised.value, WebhookError) and raised.value.http_status == 400


# ------------------------------------------------------------------ where records land


def test_the_provider_declares_its_scheme_and_both_landing_tables() -> None:
    assert isinstance(PushinPayProvider.webhook, PushinPayWebhook)
    assert PushinPayWebhook.raw_tables == {
        "pushinpay_webhook_events": "transaction_id",
        "pushinpay_transactions": "status",
    }
    assert PushinPayProvider.landing_tables() == {
        "pushinpay_transactions": "status",
        "pushinpay_webhook_events": "transaction_id",
    }
    assert {t: RAW_TABLES[t] for t in PushinPayProvider.landing_tables()} == PushinPayProvider.landing_tables()
