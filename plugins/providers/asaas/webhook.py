"""Asaas's webhook notifications: how they authenticate, and what lands of them.

Authentication (docs.asaas.com "Criar novo Webhook pela aplicação web" and the webhooks FAQ;
reference §4.1): each webhook configuration may carry an authentication token, which Asaas sends
verbatim in the `asaas-access-token` header of every delivery. `verify` compares that header
with the integration's webhook token in constant time. Asaas signs nothing: no HMAC of the body
and no timestamp, so there is no staleness check (no StaleTimestampError) and a captured
delivery replays until the token is rotated; redeliveries are deduplicated on the event `id`,
which Asaas keeps across its retries (it delivers at least once, retrying anything but HTTP 200).

Envelope (reference §4.2; the docs' payment and transfer examples):
`{"id": "evt_…&…", "event": "PAYMENT_RECEIVED", "dateCreated": "2024-06-12 16:45:03",
"payment": {…the full payment object…}}`; transfer events carry `"transfer": {…}` instead.
`dateCreated` is São Paulo wall time without a zone: `occurred_at` is it, made aware.

What lands: every notification, byte for byte, in `asaas_webhook_events` (external id = the
event id, key = the payment id, null for events about no payment); the payment of a payment
event also lands in `asaas_payments` and the transfer of a transfer event in `asaas_transfers`,
under the same external ids and keys as extraction gives them, so staging reads one table
whatever the channel. Payment and transfer events are held to the documented object shape
(WebhookPayloadError otherwise); events of other types (invoices, subscriptions, anticipations,
split blocks, whatever Asaas adds) land on the envelope alone. Being lenient there matters:
Asaas pauses the whole webhook queue after 15 failed deliveries in a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import msgspec

from plugins.providers.asaas import shapes
from plugins.providers.base import EMPTY, NormalizedEvent, RawRecord, WebhookScheme
from plugins.providers.errors import BadSignatureError, WebhookPayloadError
from plugins.providers.webhooks import constant_time_equals, header

TOKEN_HEADER = "asaas-access-token"
EVENTS_TABLE = "asaas_webhook_events"
PAYMENTS_TABLE = "asaas_payments"
TRANSFERS_TABLE = "asaas_transfers"

# Payment events as the official SDK's webhook-event enum lists them (asaasdev/asaas-api-sdk-java,
# WebhookConfigGetResponseWebhookEvent), each carrying the full payment object. The
# PAYMENT_SPLIT_* events are in that enum too, but their payload is not documented: envelope only.
PAYMENT_EVENTS = frozenset(
    {
        "PAYMENT_CREATED",
        "PAYMENT_AWAITING_RISK_ANALYSIS",
        "PAYMENT_APPROVED_BY_RISK_ANALYSIS",
        "PAYMENT_REPROVED_BY_RISK_ANALYSIS",
        "PAYMENT_AUTHORIZED",
        "PAYMENT_UPDATED",
        "PAYMENT_CONFIRMED",
        "PAYMENT_RECEIVED",
        "PAYMENT_CREDIT_CARD_CAPTURE_REFUSED",
        "PAYMENT_ANTICIPATED",
        "PAYMENT_OVERDUE",
        "PAYMENT_DELETED",
        "PAYMENT_RESTORED",
        "PAYMENT_REFUNDED",
        "PAYMENT_PARTIALLY_REFUNDED",
        "PAYMENT_REFUND_IN_PROGRESS",
        "PAYMENT_REFUND_DENIED",
        "PAYMENT_RECEIVED_IN_CASH_UNDONE",
        "PAYMENT_CHARGEBACK_REQUESTED",
        "PAYMENT_CHARGEBACK_DISPUTE",
        "PAYMENT_AWAITING_CHARGEBACK_REVERSAL",
        "PAYMENT_DUNNING_RECEIVED",
        "PAYMENT_DUNNING_REQUESTED",
        "PAYMENT_BANK_SLIP_VIEWED",
        "PAYMENT_CHECKOUT_VIEWED",
    }
)
# docs.asaas.com "Eventos para transferências" (webhook-para-transferencias).
TRANSFER_EVENTS = frozenset(
    {
        "TRANSFER_CREATED",
        "TRANSFER_PENDING",
        "TRANSFER_IN_BANK_PROCESSING",
        "TRANSFER_BLOCKED",
        "TRANSFER_DONE",
        "TRANSFER_FAILED",
        "TRANSFER_CANCELLED",
    }
)

_ENVELOPE = msgspec.json.Decoder(shapes.WebhookEnvelope)
_PAYMENT = msgspec.json.Decoder(shapes.Payment)
_TRANSFER = msgspec.json.Decoder(shapes.Transfer)
_REF = msgspec.json.Decoder(shapes._Ref)


def payment_keys(payment: shapes.Payment) -> dict[str, str | None]:
    """The key columns of an `asaas_payments` row, the same from extraction and from webhooks."""
    return {"external_reference": payment.externalReference or None}


def transfer_keys(transfer: shapes.Transfer) -> dict[str, str | None]:
    """The key columns of an `asaas_transfers` row."""
    return {"status": transfer.status}


class AsaasWebhook(WebhookScheme):
    """The integration's token echoed in `asaas-access-token`, compared in constant time."""

    raw_tables: ClassVar[Mapping[str, str]] = {
        EVENTS_TABLE: "payment_id",
        PAYMENTS_TABLE: "external_reference",
        TRANSFERS_TABLE: "status",
    }

    def verify(
        self, secret: str, headers: Mapping[str, str], raw_body: bytes, *, query: Mapping[str, str] = EMPTY
    ) -> None:
        """MissingHeaderError without the token header, BadSignatureError when it is not `secret`.

        An empty `secret` is a ValueError, never a match: an integration without a webhook token
        must not accept requests that send an empty header. The body is not part of the check:
        Asaas does not sign it.
        """
        if not secret:
            raise ValueError("no webhook token is configured for this integration; nothing can be verified")
        given = header(headers, TOKEN_HEADER)
        if not constant_time_equals(given, secret):
            raise BadSignatureError(f"the {TOKEN_HEADER} header does not match the integration's webhook token")

    def parse(self, raw_body: bytes) -> NormalizedEvent:
        """The notification (and the object it carries) as records; WebhookPayloadError when malformed."""
        envelope: shapes.WebhookEnvelope = _decode(_ENVELOPE, raw_body, "notification")
        occurred_at = shapes.to_datetime(envelope.dateCreated) if envelope.dateCreated else None
        records: list[RawRecord] = []
        payment_id: str | None = None
        if envelope.event in PAYMENT_EVENTS:
            payment = _decode(_PAYMENT, _carried(envelope.payment, envelope.event, "payment"), "payment")
            payment_id = payment.id
            records.append(RawRecord(PAYMENTS_TABLE, payment.id, envelope.payment, payment_keys(payment)))
        elif envelope.event in TRANSFER_EVENTS:
            transfer = _decode(_TRANSFER, _carried(envelope.transfer, envelope.event, "transfer"), "transfer")
            records.append(RawRecord(TRANSFERS_TABLE, transfer.id, envelope.transfer, transfer_keys(transfer)))
        elif envelope.payment and bytes(envelope.payment) != b"null":
            try:
                payment_id = _REF.decode(envelope.payment).id or None
            except msgspec.ValidationError:
                payment_id = None  # an undocumented payload: the envelope alone lands
        event = RawRecord(EVENTS_TABLE, envelope.id, bytes(raw_body), {"payment_id": payment_id})
        return NormalizedEvent(envelope.id, envelope.event, occurred_at, (event, *records))


def _carried(raw: msgspec.Raw, event: str, key: str) -> msgspec.Raw:
    """The object a documented event must carry under `key`."""
    if not raw or bytes(raw) == b"null":
        raise WebhookPayloadError(f"asaas: the {event} notification has no `{key}` object")
    return raw


def _decode(decoder: msgspec.json.Decoder[Any], raw: bytes | msgspec.Raw, what: str) -> Any:
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # ValidationError is a DecodeError; its message names the field, never a secret.
        raise WebhookPayloadError(f"asaas: the {what} is not the documented shape: {exc}") from None
