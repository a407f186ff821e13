"""Kiwify's webhook notifications: how they authenticate, and what lands of them.

Authentication (Kiwify's docs, "Receber e validar webhooks", `/api-reference/webhooks/receiving`):
Kiwify appends the query parameter `signature` to the registered URL; it is the lower-case hex
HMAC-SHA1 (40 characters) of the raw body bytes, keyed with the webhook's token (UTF-8). The token
itself is never sent, and there is no authentication header and no timestamp. So `verify` reads
`query["signature"]` (MissingHeaderError without it: the parameter is where the signature travels),
recomputes the HMAC over the bytes exactly as received and compares in constant time
(BadSignatureError). Nothing says when a request was signed, so a replay cannot be proven stale:
it verifies, and is absorbed by deduplication on `event_id` instead. The hex is compared
case-insensitively (the same MAC in either case); anything but 40 hex digits is a bad signature.

Bodies (`../shared/reference/providers-gateways.md` §7.2; official trigger list; third-party
samples): an order notification is one flat JSON object with `order_id`, `order_status`,
`webhook_event_type` (order_approved, order_rejected, order_refunded, chargeback, billet_created,
pix_created, subscription_renewed, subscription_late, subscription_canceled), the order's dates
(`"YYYY-MM-DD HH:MM"`, see `records.kiwify_time`), `Product`, `Customer`, `Commissions` (integer
centavos), `Subscription`, `TrackingParameters`. Two third-party receivers record the same object
wrapped as `{"order": {...}}`; that form is read too (a genuine, signed delivery must not be
refused), and lands as sent. The cart-abandonment notification (`carrinho_abandonado`) has another,
flat shape without `webhook_event_type` (`id`, `status: "abandoned"`, `checkout_link`, `email`,
`product_id`, `store_id`, `created_at`): it is parsed as its own event type, `cart_abandoned`, keyed
by no order (there is none). An event type Kiwify adds later lands as sent, held to the order
fields above.

What lands: the notification itself, byte for byte, in `kiwify_webhook_events`, keyed by
`order_id`. Kiwify gives notifications no id of their own, so the event id is `order_id + ':' +
webhook_event_type` (the cart's: its `id` + `:cart_abandoned`): a redelivery adds nothing, a later
event of the same order is a new one. The sales themselves arrive by extraction (`GET /v1/sales`,
and by id for the orders these events name: `provider.py`). `occurred_at` is the order's
`updated_at` (else `created_at`), read as São Paulo wall time; None when the body gives neither.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import msgspec

from plugins.providers.base import EMPTY, NormalizedEvent, RawRecord, WebhookScheme
from plugins.providers.errors import BadSignatureError, MissingHeaderError, WebhookPayloadError
from plugins.providers.kiwify import shapes
from plugins.providers.kiwify.records import kiwify_time
from plugins.providers.webhooks import constant_time_equals, hmac_digest

SIGNATURE_PARAMETER = "signature"
EVENTS_TABLE = "kiwify_webhook_events"
CART_ABANDONED = "cart_abandoned"
EVENT_TYPES = frozenset(
    {
        "order_approved",
        "order_rejected",
        "order_refunded",
        "chargeback",
        "billet_created",
        "pix_created",
        "subscription_renewed",
        "subscription_late",
        "subscription_canceled",
    }
)

_OBJECT = msgspec.json.Decoder(dict[str, Any])
_HEX_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")


class KiwifyWebhook(WebhookScheme):
    """An HMAC-SHA1 of the body in the `signature` query parameter; the notification is the record."""

    raw_tables: ClassVar[Mapping[str, str]] = {EVENTS_TABLE: "order_id"}

    def verify(
        self, secret: str, headers: Mapping[str, str], raw_body: bytes, *, query: Mapping[str, str] = EMPTY
    ) -> None:
        """MissingHeaderError without `?signature=`, BadSignatureError when it is not the body's HMAC.

        Kiwify sends no authentication header, so `headers` are not read. An empty `secret` is a
        ValueError, never a match: Kiwify signs with an empty key when a webhook has no token, which
        proves nothing.
        """
        if not secret:
            raise ValueError("no webhook secret is configured for this integration; nothing can be verified")
        given = query.get(SIGNATURE_PARAMETER)
        if given is None:
            raise MissingHeaderError(f"the request has no {SIGNATURE_PARAMETER} query parameter")
        if not _HEX_SHA1.fullmatch(given):
            raise BadSignatureError(f"the {SIGNATURE_PARAMETER} query parameter is not a hex HMAC-SHA1")
        expected = hmac_digest(secret, raw_body, algorithm="sha1", encoding="hex")
        if not constant_time_equals(given.lower(), expected):
            raise BadSignatureError(
                f"the {SIGNATURE_PARAMETER} query parameter is not the body's HMAC under the integration's webhook token"
            )

    def parse(self, raw_body: bytes) -> NormalizedEvent:
        """The notification as one record; WebhookPayloadError when it is not the documented shape."""
        body = _decode_object(raw_body)
        wrapped = body.get("order")
        order = wrapped if "webhook_event_type" not in body and isinstance(wrapped, dict) else body
        if "webhook_event_type" not in order and order.get("status") == "abandoned":
            cart = _convert(order, shapes.CartAbandoned, "cart-abandonment notification")
            event_id = f"{cart.id}:{CART_ABANDONED}"
            occurred = _time(cart.created_at, "created_at")
            record = RawRecord(EVENTS_TABLE, event_id, bytes(raw_body), {"order_id": None})
            return NormalizedEvent(event_id, CART_ABANDONED, occurred, (record,))
        notification = _convert(order, shapes.OrderNotification, "order notification")
        event_id = f"{notification.order_id}:{notification.webhook_event_type}"
        occurred = _time(notification.updated_at, "updated_at") or _time(notification.created_at, "created_at")
        for name in ("approved_date", "refunded_at"):
            _time(getattr(notification, name), name)
        record = RawRecord(EVENTS_TABLE, event_id, bytes(raw_body), {"order_id": notification.order_id})
        return NormalizedEvent(event_id, notification.webhook_event_type, occurred, (record,))


def _decode_object(raw_body: bytes) -> dict[str, Any]:
    try:
        return _OBJECT.decode(raw_body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # a ValidationError is a DecodeError
        raise WebhookPayloadError(f"kiwify: the notification is not a JSON object: {exc}") from None


def _convert(fields: dict[str, Any], shape: type[msgspec.Struct], what: str) -> Any:
    try:
        return msgspec.convert(fields, shape)
    except msgspec.ValidationError as exc:  # names the field, never a secret
        raise WebhookPayloadError(f"kiwify: the {what} is not the documented shape: {exc}") from None


def _time(value: str | None, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return kiwify_time(value)
    except ValueError as exc:
        raise WebhookPayloadError(f"kiwify: the notification's `{name}` is not a date: {exc}") from None
