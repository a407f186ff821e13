"""Pluggy's webhook scheme: the secret header, and every documented notification parsed.

Payloads follow `../shared/reference/providers-banking-ifood.md` §1.10 ("Notification payload",
from Pluggy's SDK `WebhookEventPayload` and its docs); event names are checked against the OAS
enum as the `pluggy-sdk` package ships it, so a misspelt event type here or in the scheme fails.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import psycopg
import pytest
from pluggy_sdk.models.webhook_event_type import WebhookEventType

from ingestion import raw_writer
from plugins.providers.base import NormalizedEvent, RawRecord
from plugins.providers.errors import BadSignatureError, MissingHeaderError, WebhookError, WebhookPayloadError
from plugins.providers.ifood.provider import IfoodProvider
from plugins.providers.pluggy.provider import PluggyProvider
from plugins.providers.pluggy.shapes import WEBHOOK_SHAPES
from plugins.providers.pluggy.webhook import DEFAULT_SECRET_HEADER, PluggyWebhook
from plugins.providers.registry import RAW_TABLES

SECRET = "whk-7f3a9c2e-pluggy-header-secret"
SCHEME = PluggyWebhook()
ITEM = "0c7a3e0e-8a4e-4d0f-9d3b-2f7b1b6c9e11"
ACCOUNT = "5e2f1b7c-3d4a-4f6e-8b9c-1a2b3c4d5e6f"


def body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def item_event(event: str, **extra: Any) -> dict[str, Any]:
    return {"event": event, "eventId": f"evt-{event}", "id": ITEM, "itemId": ITEM, "triggeredBy": "SYNC", **extra}


# Every event type whose payload the reference documents: (payload, the item id it must land under).
DOCUMENTED: dict[str, tuple[dict[str, Any], str | None]] = {
    **{
        event: (item_event(event, clientUserId="user-42"), ITEM)
        for event in (
            "item/created",
            "item/updated",
            "item/waiting_user_input",
            "item/waiting_user_action",
            "item/login_succeeded",
            "item/deleted",
        )
    },
    "item/error": (
        item_event("item/error", triggeredBy=None, error={"code": "INVALID_CREDENTIALS", "message": "Wrong password"}),
        ITEM,
    ),
    "connector/status_updated": (
        {"event": "connector/status_updated", "eventId": "evt-connector", "id": "201", "data": {"status": "UNSTABLE"}},
        None,
    ),
    "transactions/created": (
        {
            "event": "transactions/created",
            "eventId": "evt-tx-created",
            "itemId": ITEM,
            "accountId": ACCOUNT,
            "transactionsCreatedAtFrom": "2026-10-01T03:00:00.000Z",
            "createdTransactionsLink": f"https://api.pluggy.ai/transactions?accountId={ACCOUNT}&createdAtFrom=2026-10-01T03:00:00.000Z",
        },
        ITEM,
    ),
    "transactions/updated": (
        {
            "event": "transactions/updated",
            "eventId": "evt-tx-updated",
            "itemId": ITEM,
            "clientId": "client-1",
            "accountId": ACCOUNT,
            "transactionIds": ["t-1", "t-2"],
        },
        ITEM,
    ),
    "transactions/deleted": (
        {
            "event": "transactions/deleted",
            "eventId": "evt-tx-deleted",
            "itemId": ITEM,
            "clientId": "client-1",
            "accountId": ACCOUNT,
            "transactionIds": ["t-3"],
        },
        ITEM,
    ),
    "payment_request/updated": (
        {
            "event": "payment_request/updated",
            "eventId": "evt-payment-request",
            "paymentRequestId": "pr-1",
            "data": {"status": "COMPLETED"},
        },
        None,
    ),
}


# ---------------------------------------------------------------------------- verify


@pytest.mark.parametrize("name", [DEFAULT_SECRET_HEADER, DEFAULT_SECRET_HEADER.lower(), DEFAULT_SECRET_HEADER.upper()])
def test_the_configured_secret_verifies_whatever_the_header_names_case(name: str) -> None:
    assert DEFAULT_SECRET_HEADER == "X-Webhook-Secret"
    SCHEME.verify(SECRET, {"content-type": "application/json", name: SECRET}, body(DOCUMENTED["item/updated"][0]))


@pytest.mark.parametrize(
    "given",
    [
        "not-the-secret",
        SECRET[:-1],  # a prefix
        SECRET + "0",  # longer
        SECRET[:-1] + ("0" if SECRET[-1] != "0" else "1"),  # differs in the last character only
        SECRET.upper(),
        "",
        "sêcret-não-ascii",
    ],
)
def test_a_wrong_secret_is_a_bad_signature_that_names_neither_value(given: str) -> None:
    with pytest.raises(BadSignatureError) as raised:
        SCHEME.verify(SECRET, {DEFAULT_SECRET_HEADER: given}, b"{}")
    message = str(raised.value)
    assert "X-Webhook-Secret header does not match" in message
    assert SECRET not in message and (not given or given not in message)
    assert raised.value.http_status == 401, "Pluggy does not retry a 401"


def test_a_missing_header_is_a_missing_header_error() -> None:
    for headers in ({}, {"Authorization": SECRET}, {"X-Webhook-Secrets": SECRET}):
        with pytest.raises(MissingHeaderError, match="no X-Webhook-Secret header"):
            SCHEME.verify(SECRET, headers, b"{}")


def test_the_header_name_is_configurable() -> None:
    scheme = PluggyWebhook(header_name="X-Conciliador-Token")
    scheme.verify(SECRET, {"x-conciliador-token": SECRET}, b"{}")
    with pytest.raises(MissingHeaderError, match="no X-Conciliador-Token header"):
        scheme.verify(SECRET, {DEFAULT_SECRET_HEADER: SECRET}, b"{}")


def test_the_query_string_plays_no_part() -> None:
    """Pluggy signs nothing in the query string: the sink's query parameters are accepted and ignored."""
    SCHEME.verify(SECRET, {DEFAULT_SECRET_HEADER: SECRET}, b"{}", query={"data.id": "1", "signature": "x"})
    with pytest.raises(BadSignatureError):
        SCHEME.verify(SECRET, {DEFAULT_SECRET_HEADER: "wrong"}, b"{}", query={"secret": SECRET})


def test_an_integration_without_a_secret_verifies_nothing() -> None:
    with pytest.raises(ValueError, match="no webhook secret is configured"):
        SCHEME.verify("", {DEFAULT_SECRET_HEADER: ""}, b"{}")


@pytest.mark.parametrize("verdict", [True, False])
def test_the_verdict_is_hmac_compare_digests_alone(monkeypatch: pytest.MonkeyPatch, verdict: bool) -> None:
    """Constant time, by behaviour: whatever compare_digest says is the verdict, so no `==`, length
    check or early exit decides before it (a wrong secret of another length passes when it says
    equal; the right one fails when it says different)."""
    compared: list[tuple[bytes, bytes]] = []

    def compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return verdict

    monkeypatch.setattr(hmac, "compare_digest", compare_digest)
    given = SECRET if not verdict else "short"
    if verdict:
        SCHEME.verify(SECRET, {DEFAULT_SECRET_HEADER: given}, b"{}")
    else:
        with pytest.raises(BadSignatureError):
            SCHEME.verify(SECRET, {DEFAULT_SECRET_HEADER: given}, b"{}")
    assert compared == [(given.encode(), SECRET.encode())]


# ----------------------------------------------------------------------------- parse


@pytest.mark.parametrize("event_type", sorted(DOCUMENTED))
def test_every_documented_notification_becomes_one_event_record(event_type: str) -> None:
    payload, item_id = DOCUMENTED[event_type]
    raw = body(payload)
    event = SCHEME.parse(raw)
    assert event == NormalizedEvent(
        event_id=payload["eventId"],
        event_type=event_type,
        occurred_at=None,  # Pluggy's payloads carry no event time
        records=(RawRecord("pluggy_webhook_events", payload["eventId"], raw, {"item_id": item_id}),),
        source="webhook",
    )
    assert event.records[0].payload == raw, "the notification lands byte for byte as Pluggy sent it"


def test_event_types_are_pluggys_and_undocumented_payloads_land_on_the_envelope_alone() -> None:
    enum = {member.value for member in WebhookEventType} - {"all"}
    assert set(DOCUMENTED) <= enum and set(WEBHOOK_SHAPES) <= enum, "a misspelt event type"
    assert set(WEBHOOK_SHAPES) == set(DOCUMENTED), "every typed payload is tested above"
    for event_type in sorted(enum - set(WEBHOOK_SHAPES)):  # payment intents, boletos, …
        event = SCHEME.parse(body({"event": event_type, "eventId": f"evt-{event_type}", "paymentIntentId": "pi-1"}))
        assert (event.event_type, event.event_id) == (event_type, f"evt-{event_type}")
        assert event.records[0].keys == {"item_id": None}


def _without(event_type: str, field: str) -> bytes:
    payload = dict(DOCUMENTED[event_type][0])
    del payload[field]
    return body(payload)


def _with(event_type: str, **fields: Any) -> bytes:
    return body({**DOCUMENTED[event_type][0], **fields})


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (b"", "notification"),
        (b"not json", "notification"),
        (b'{"event": "item/updated", "eventId": "e1", "itemId": ', "notification"),  # truncated
        (b"[]", "Expected `object`"),
        (b'{"event": "item/updated", "eventId": "e1", "itemId": "\xff"}', "notification"),  # not UTF-8
        (_without("item/updated", "eventId"), "`eventId`"),
        (_with("item/updated", eventId=""), "`\\$.eventId`"),
        (_with("item/updated", eventId=42), "`\\$.eventId`"),
        (_without("item/updated", "event"), "`event`"),
        (_without("item/updated", "itemId"), "item/updated notification .*`itemId`"),
        (_without("item/error", "error"), "item/error notification .*`error`"),
        (_with("item/error", error={"message": "no code"}), "`code`"),
        (_without("connector/status_updated", "data"), "`data`"),
        (_without("transactions/created", "createdTransactionsLink"), "`createdTransactionsLink`"),
        (_with("transactions/created", transactionsCreatedAtFrom="yesterday"), "`\\$.transactionsCreatedAtFrom`"),
        (_with("transactions/updated", transactionIds="t-1"), "`\\$.transactionIds`"),
        (_with("transactions/deleted", transactionIds=["t-1", ""]), "`\\$.transactionIds\\[1\\]`"),
        (_without("transactions/deleted", "accountId"), "`accountId`"),
        (_without("payment_request/updated", "paymentRequestId"), "`paymentRequestId`"),
    ],
)
def test_a_body_that_is_not_the_documented_shape_is_a_payload_error(raw: bytes, names: str) -> None:
    with pytest.raises(WebhookPayloadError, match=f"^pluggy: the .*{names}") as raised:
        SCHEME.parse(raw)
    assert isinstance(raised.value, WebhookError) and raised.value.http_status == 400


# ------------------------------------------------------------------ where records land


def test_the_providers_say_which_webhook_scheme_they_have() -> None:
    assert isinstance(PluggyProvider.webhook, PluggyWebhook)
    assert IfoodProvider.webhook is None, "iFood's Financial module has no webhooks"
    assert PluggyWebhook.raw_tables == {"pluggy_webhook_events": "item_id"}
    assert RAW_TABLES["pluggy_webhook_events"] == "item_id", "the registry creates and writes the events table"
    assert set(PluggyProvider.landing_tables()) == {"pluggy_accounts", "pluggy_transactions", "pluggy_webhook_events"}


def test_event_records_land_in_raw_once_however_often_pluggy_redelivers(clean_warehouse: str) -> None:
    events = [SCHEME.parse(body(payload)) for payload, _ in DOCUMENTED.values()]
    records = [record for event in events for record in event.records]
    with psycopg.connect(clean_warehouse) as conn:
        first = raw_writer.write(
            conn, records, tenant_id="t1", integration_id=7, sync_run_id=None, source=events[0].source
        )
        again = raw_writer.write(conn, records, tenant_id="t1", integration_id=7, sync_run_id=None, source="webhook")
        conn.commit()
        rows = conn.execute(
            "select external_id, item_id, source, payload ->> 'event' from raw.pluggy_webhook_events"
        ).fetchall()
    assert (first.rows_written, again.rows_written) == (len(DOCUMENTED), 0)
    assert sorted(rows, key=str) == sorted(
        ((payload["eventId"], item_id, "webhook", event) for event, (payload, item_id) in DOCUMENTED.items()), key=str
    )
