"""Pluggy's webhook notifications: how they authenticate, and what lands of them.

Authentication (`../shared/reference/providers-banking-ifood.md` §1.10, "Delivery /
verification"): Pluggy sends, with every notification, the `headers` object given when the
webhook was created (`POST /webhooks`), and recommends a custom secret header compared in constant
time. So the integration's webhook secret is registered as that header's value, and `verify`
compares the header with it. The header is `X-Webhook-Secret` unless the scheme is built with
another name (`PluggyWebhook(header_name=…)`). Pluggy does not sign the body (its docs mention an
HMAC signature whose header, algorithm and signed string are not published; the reference marks
it UNCONFIRMED), so the body is not part of the check. Per-resource `webhookUrl`s (on an item or a
connect token) are sent without custom headers: they cannot authenticate and fail here with
MissingHeaderError; subscribe with `POST /webhooks` instead.

What lands: notifications point at changed data rather than carry it (`transactions/created`
gives an account, a date and a link; `transactions/updated|deleted` give ids; `item/updated`
says an item synced), so each notification is its own record, in `pluggy_webhook_events` keyed
by item id (null for events about no item: `connector/status_updated`, payment requests), with
`eventId` as its external id so a redelivery adds nothing. The transactions themselves keep
arriving by extraction. Pluggy's payloads carry no event time, so `occurred_at` is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import msgspec

from plugins.providers.base import EMPTY, NormalizedEvent, RawRecord, WebhookScheme
from plugins.providers.errors import BadSignatureError, WebhookPayloadError
from plugins.providers.pluggy import shapes
from plugins.providers.webhooks import constant_time_equals, header

DEFAULT_SECRET_HEADER = "X-Webhook-Secret"
EVENTS_TABLE = "pluggy_webhook_events"

_ENVELOPE = msgspec.json.Decoder(shapes.WebhookEnvelope)
_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    event: msgspec.json.Decoder(shape) for event, shape in shapes.WEBHOOK_SHAPES.items()
}


class PluggyWebhook(WebhookScheme):
    """A custom secret header checked in constant time; the notification itself is the record."""

    raw_tables: ClassVar[Mapping[str, str]] = {EVENTS_TABLE: "item_id"}

    def __init__(self, header_name: str = DEFAULT_SECRET_HEADER) -> None:
        self.header_name = header_name

    def verify(
        self, secret: str, headers: Mapping[str, str], raw_body: bytes, *, query: Mapping[str, str] = EMPTY
    ) -> None:
        """MissingHeaderError without the secret header, BadSignatureError when it is not `secret`.

        Pluggy puts nothing in the query string, so `query` is ignored.

        An empty `secret` is a ValueError, never a match: an integration without a webhook
        secret must not accept requests that send an empty header.
        """
        if not secret:
            raise ValueError("no webhook secret is configured for this integration; nothing can be verified")
        given = header(headers, self.header_name)
        if not constant_time_equals(given, secret):
            raise BadSignatureError(f"the {self.header_name} header does not match the integration's webhook secret")

    def parse(self, raw_body: bytes) -> NormalizedEvent:
        """The notification as one record; WebhookPayloadError when it is not the documented shape.

        Every notification must have `event` and `eventId`; an event whose payload Pluggy
        documents must have its fields (an `item/*` event its `itemId`, `transactions/updated` its
        `transactionIds`, …). Event types Pluggy lists without a documented payload are held to the
        envelope only, and land all the same: the raw payload keeps every field.
        """
        envelope = _decode(_ENVELOPE, raw_body, "notification")
        decoder = _DECODERS.get(envelope.event)
        typed = _decode(decoder, raw_body, f"{envelope.event} notification") if decoder is not None else envelope
        item_id = getattr(typed, "itemId", None)
        record = RawRecord(EVENTS_TABLE, envelope.eventId, bytes(raw_body), {"item_id": item_id})
        return NormalizedEvent(envelope.eventId, envelope.event, None, (record,))


def _decode(decoder: msgspec.json.Decoder[Any], raw_body: bytes, what: str) -> Any:
    try:
        return decoder.decode(raw_body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # ValidationError is a DecodeError; both messages name the field, never a secret.
        raise WebhookPayloadError(f"pluggy: the {what} is not the documented shape: {exc}") from None
