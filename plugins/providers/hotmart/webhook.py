"""Hotmart's webhook notifications (version 2.0.0): how they authenticate, and what lands of them.

Authentication: one token per Hotmart account, the "hottok", shown in the webhook settings'
authentication tab; Hotmart sends it in the `X-HOTMART-HOTTOK` header of every delivery (the
scraped official pages; reference §6.1). Legacy postbacks and some payload samples also carry it
in the body (`hottok` at the top of the envelope, or `data.purchase.hottok`): `verify` reads the
header, and only when the header is absent falls back to the body's field; either is compared
with the integration's webhook secret in constant time. A header that is present and wrong is
refused, whatever the body says. Hotmart signs nothing: no HMAC of the body and no timestamp,
so there is no staleness check (no StaleTimestampError) and a captured delivery replays until
the hottok is changed (which takes Hotmart's support); replays and Hotmart's redeliveries are
absorbed by deduplication on the envelope `id`, the `event_id`.

Envelope: `{"id": "<uuid>", "creation_date": <epoch ms>, "event": "PURCHASE_APPROVED",
"version": "2.0.0", "data": {...}}`; `occurred_at` is `creation_date`. Purchase events carry the
sale in `data` (`product`, `purchase{transaction, status, price{value, currency_value}, …}`,
`commissions[]{value, currency_value, source}`, `buyer`, `producer`, `subscription`, …) and are
held to that shape (WebhookPayloadError otherwise). Other events (subscription cancellation,
plan switch, cart abandonment, club access, …) land on the envelope alone: being lenient there
keeps a new Hotmart event from failing every delivery. A 1.0.0 (legacy) postback is not this
shape: WebhookPayloadError, so a mis-configured webhook is visible at once.

What lands: every notification, byte for byte, in `hotmart_webhook_events` (external id = the
envelope id, key = the sale's `transaction`, null for events about no sale). The webhook's sale
is not the REST history's object (money as `currency_value`, other fields), so it does not land
in `hotmart_sales`: the next sync re-reads every transaction a webhook named (`known_ids_from`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import msgspec

from plugins.providers.base import EMPTY, NormalizedEvent, RawRecord, WebhookScheme
from plugins.providers.errors import BadSignatureError, MissingHeaderError, WebhookPayloadError
from plugins.providers.hotmart import shapes
from plugins.providers.hotmart.records import from_millis
from plugins.providers.webhooks import constant_time_equals, header

HOTTOK_HEADER = "X-HOTMART-HOTTOK"
EVENTS_TABLE = "hotmart_webhook_events"

# Events whose `data` is a sale (reference §6.2, the scraped 2.0.0 pages): each names its transaction.
PURCHASE_EVENTS = frozenset(
    {
        "PURCHASE_APPROVED",
        "PURCHASE_COMPLETE",
        "PURCHASE_CANCELED",
        "PURCHASE_BILLET_PRINTED",
        "PURCHASE_PROTEST",
        "PURCHASE_REFUNDED",
        "PURCHASE_CHARGEBACK",
        "PURCHASE_EXPIRED",
        "PURCHASE_DELAYED",
    }
)
# The other documented events: they land on the envelope alone.
OTHER_EVENTS = frozenset(
    {
        "PURCHASE_OUT_OF_SHOPPING_CART",
        "CART_ABANDONMENT",
        "SUBSCRIPTION_CANCELLATION",
        "SWITCH_PLAN",
        "UPDATE_SUBSCRIPTION_CHARGE_DATE",
        "SUBSCRIPTION_BILLING_DATE_CHANGE",
        "CLUB_FIRST_ACCESS",
        "CLUB_MODULE_COMPLETED",
        "ORDER_FULFILLMENT",
    }
)
SUPPORTED_VERSION = "2."

_ENVELOPE = msgspec.json.Decoder(shapes.WebhookEnvelope)
_PURCHASE = msgspec.json.Decoder(shapes.PurchaseData)
_ANY_DATA = msgspec.json.Decoder(shapes.AnyData)


class _Hottok(msgspec.Struct):
    hottok: str | None = None
    data: shapes.AnyData | None = None


_HOTTOK = msgspec.json.Decoder(_Hottok)


class HotmartWebhook(WebhookScheme):
    """The account's hottok in `X-HOTMART-HOTTOK` (else in the body), compared in constant time."""

    raw_tables: ClassVar[Mapping[str, str]] = {EVENTS_TABLE: "transaction"}

    def verify(
        self, secret: str, headers: Mapping[str, str], raw_body: bytes, *, query: Mapping[str, str] = EMPTY
    ) -> None:
        """MissingHeaderError when neither the header nor the body carries a hottok; BadSignatureError
        when the one given is not `secret`. An empty `secret` is a ValueError, never a match."""
        if not secret:
            raise ValueError("no hottok is configured for this integration; nothing can be verified")
        try:
            given = header(headers, HOTTOK_HEADER)
            where = f"the {HOTTOK_HEADER} header"
        except MissingHeaderError:
            given = _body_hottok(raw_body)
            if given is None:
                raise MissingHeaderError(
                    f"the request has no {HOTTOK_HEADER} header and its body no hottok field"
                ) from None
            where = "the body's hottok field"
        if not constant_time_equals(given, secret):
            raise BadSignatureError(f"{where} does not match the integration's hottok")

    def parse(self, raw_body: bytes) -> NormalizedEvent:
        """The notification as one record; WebhookPayloadError when it is not the documented shape."""
        envelope: shapes.WebhookEnvelope = _decode(_ENVELOPE, raw_body, "notification")
        if not envelope.version.startswith(SUPPORTED_VERSION):
            raise WebhookPayloadError(
                f"hotmart: a version {envelope.version!r} notification; only version 2.0.0 is documented here "
                "(set the webhook's version to 2.0.0 in Hotmart)"
            )
        transaction: str | None
        if envelope.event in PURCHASE_EVENTS:
            data: shapes.PurchaseData = _decode(_PURCHASE, envelope.data, f"{envelope.event} data")
            transaction = data.purchase.transaction
        else:
            other: shapes.AnyData = _decode(_ANY_DATA, envelope.data, f"{envelope.event} data")
            transaction = (other.purchase.transaction or None) if other.purchase is not None else None
        record = RawRecord(EVENTS_TABLE, envelope.id, bytes(raw_body), {"transaction": transaction})
        return NormalizedEvent(envelope.id, envelope.event, from_millis(envelope.creation_date), (record,))


def _body_hottok(raw_body: bytes) -> str | None:
    """The hottok a body carries (top level, else `data.purchase.hottok`), or None."""
    try:
        body = _HOTTOK.decode(raw_body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    if body.hottok:
        return body.hottok
    purchase = body.data.purchase if body.data is not None else None
    return purchase.hottok if purchase is not None and purchase.hottok else None


def _decode(decoder: msgspec.json.Decoder[Any], raw: bytes | msgspec.Raw, what: str) -> Any:
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # ValidationError is a DecodeError; its message names the field, never the hottok.
        raise WebhookPayloadError(f"hotmart: the {what} is not the documented shape: {exc}") from None
