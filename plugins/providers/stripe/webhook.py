"""Stripe's webhook events: how they are signed, and what lands of them.

Signature (stripe-python `stripe/_webhook.py`, `WebhookSignature.verify_header`): the
`Stripe-Signature` header is `t=<Unix seconds>,v1=<hex>[,v1=<hex>…]` (other schemes such as `v0`
may appear and are ignored); each `v1` is the lower-case hex HMAC-SHA256 of `"{t}.{raw body}"`
keyed with the endpoint's `whsec_…` secret taken as UTF-8 bytes (not base64-decoded, unlike
Standard Webhooks). A request is genuine when any `v1` matches, compared in constant time (two
appear while a secret is rotated). The signature is checked first, then the timestamp against a
300 s tolerance (`Webhook.DEFAULT_TOLERANCE`), so only an authentic delivery is ever told it is
stale. Stricter than stripe-python, which rejects old timestamps only: a timestamp more than the
tolerance in the future is stale too (a clock wrong on one side; `webhooks.check_timestamp`).

Payload: an event `{"object": "event", "id": "evt_…", "type", "created", "data": {"object": …}}`.
The event lands in `stripe_events` (key: its type) with its id as external id, so a redelivery
(same event, new `t` and signature) adds nothing; when `data.object` is a charge, refund, dispute
or payout, that object also lands in its API table exactly as sync lands it (same table, id and
key), so staging reads one table whatever the channel. Every other type (payment intents,
`balance.available`, types Stripe adds later) lands as an event only, its object held to being an
object with an `object` field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import msgspec

from plugins.providers.base import EMPTY, NormalizedEvent, RawRecord, WebhookScheme
from plugins.providers.errors import BadSignatureError, WebhookPayloadError
from plugins.providers.stripe import records, shapes
from plugins.providers.webhooks import (
    DEFAULT_TOLERANCE,
    any_equals,
    check_timestamp,
    header,
    hmac_digest,
    parse_keyed_signatures,
    parse_unix_timestamp,
)

SIGNATURE_HEADER = "Stripe-Signature"
SCHEME = "v1"

_EVENT = msgspec.json.Decoder(shapes.Event)
_HEAD = msgspec.json.Decoder(shapes.ObjectHead)
_OBJECTS: dict[str, msgspec.json.Decoder[Any]] = {
    kind: msgspec.json.Decoder(shape) for kind, shape in shapes.OBJECT_SHAPES.items()
}


class StripeWebhook(WebhookScheme):
    """`Stripe-Signature` HMAC over the timestamped body; the event and its object are the records."""

    raw_tables: ClassVar[Mapping[str, str]] = {
        records.EVENTS_TABLE: records.EVENTS_KEY,
        **{records.LANDINGS[kind].table: records.LANDINGS[kind].key_column for kind in shapes.OBJECT_SHAPES},
    }

    def __init__(self, *, tolerance: timedelta = DEFAULT_TOLERANCE, now: Callable[[], datetime] | None = None) -> None:
        self.tolerance = tolerance
        self._now = now

    def verify(
        self, secret: str, headers: Mapping[str, str], raw_body: bytes, *, query: Mapping[str, str] = EMPTY
    ) -> None:
        """MissingHeaderError without `Stripe-Signature`; BadSignatureError when it is unreadable,
        has no `v1` or none matches; StaleTimestampError when a matching one is too old (or new).

        An empty `secret` is a ValueError, never a match.
        """
        if not secret or not secret.strip():
            raise ValueError("no webhook secret is configured for this integration; nothing can be verified")
        parts = parse_keyed_signatures(header(headers, SIGNATURE_HEADER), header_name=SIGNATURE_HEADER)
        stamps = parts.get("t", [])
        if len(stamps) != 1:
            raise BadSignatureError(f"the {SIGNATURE_HEADER} header must carry exactly one t= timestamp")
        signed_at = parse_unix_timestamp(stamps[0], header_name=SIGNATURE_HEADER)
        signatures = parts.get(SCHEME, [])
        if not signatures:
            raise BadSignatureError(f"the {SIGNATURE_HEADER} header has no {SCHEME} signature")
        expected = hmac_digest(secret, f"{int(stamps[0])}.".encode() + raw_body)  # stripe-python: "%d.%s"
        if not any_equals(signatures, expected):
            raise BadSignatureError(f"no {SCHEME} signature in the {SIGNATURE_HEADER} header matches the body")
        check_timestamp(signed_at, tolerance=self.tolerance, now=self._now)

    def parse(self, raw_body: bytes) -> NormalizedEvent:
        """The event (and its object, for the kinds with an API table) as records.

        WebhookPayloadError when the body is not an event, or its `data.object` is not the
        documented shape of its kind (a charge without `amount`, an amount that is not an integer).
        """
        event = _decode(_EVENT, raw_body, "event")
        head = _decode(_HEAD, event.data.object, f"{event.type} event's data.object")
        landed = [RawRecord(records.EVENTS_TABLE, event.id, bytes(raw_body), {records.EVENTS_KEY: event.type})]
        decoder = _OBJECTS.get(head.object)
        if decoder is not None:
            typed = _decode(decoder, event.data.object, f"{event.type} event's data.object ({head.object})")
            landed.append(records.LANDINGS[head.object].record(typed, event.data.object))
        return NormalizedEvent(event.id, event.type, records.timestamp(event.created), tuple(landed))


def _decode(decoder: msgspec.json.Decoder[Any], raw: bytes | msgspec.Raw, what: str) -> Any:
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # ValidationError is a DecodeError; both messages name the field, never a secret.
        raise WebhookPayloadError(f"stripe: the {what} is not the documented shape: {exc}") from None
