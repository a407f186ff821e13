"""Mercado Pago's Webhooks notifications: how they authenticate, and what lands of them.

Authentication (MP's "Webhooks" page, section "Validar origem da notificação"; the reference §3.1;
the official SDK's `mercadopago/webhook/validator.py`): every notification carries
`x-signature: ts=<ts>,v1=<hex>` and `x-request-id: <uuid>`, and MP puts the changed resource's id in
the URL (`?data.id=<id>&type=<topic>`). `v1` is the lower-case hex HMAC-SHA256, keyed with the
application's secret signature (UTF-8), of the manifest

    id:<data.id from the query>;request-id:<x-request-id>;ts:<ts>;

(note the trailing semicolon), where a segment whose value the notification lacks is left out.
So the signature covers the resource id, the request id and the time, not the body. What we add:

- the body must be about the resource that was signed: a body whose `data.id` is not the signed
  query `data.id` is a BadSignatureError (the body itself is unsigned, so a captured signature
  could otherwise carry any body), and a body with a `data.id` under a signature without one too;
- a `data.id` with letters: third-party code (and MP's Orders documentation) says MP signs it in
  lower case, the SDK signs it as received; both manifests are tried, each compared in constant time;
- `ts`: the docs call it milliseconds, their example (`1704908010`) and the SDK treat it as seconds.
  It enters the manifest as the text received; for the optional age check 13 or more digits are read
  as milliseconds, fewer as seconds. MP states no tolerance and retries a failed delivery every 15
  minutes and later, so the check is off unless the scheme is built with `tolerance_s`.

QR-code notifications are not signed by MP (its docs): they fail here with MissingHeaderError.

What lands: a notification is thin (`{"id", "type", "action", "date_created", "data": {"id"}, …}`),
pointing at the resource rather than carrying it, so the notification itself is the record, in
`mercadopago_webhook_events` keyed by `data_id`, its external id MP's notification `id` (the same on
every redelivery, so a redelivery adds nothing); without one, `data.id`, the action (or topic) and
`date_created`. The payment itself arrives by extraction (its `date_last_updated` moves).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import msgspec

from plugins.providers.base import EMPTY, NormalizedEvent, RawRecord, WebhookScheme
from plugins.providers.errors import BadSignatureError, WebhookPayloadError
from plugins.providers.mercadopago import shapes
from plugins.providers.webhooks import any_equals, check_timestamp, header, hmac_digest, parse_keyed_signatures

SIGNATURE_HEADER = "x-signature"
REQUEST_ID_HEADER = "x-request-id"
DATA_ID_PARAM = "data.id"
EVENTS_TABLE = "mercadopago_webhook_events"

_ENVELOPE = msgspec.json.Decoder(shapes.Notification)
_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    topic: msgspec.json.Decoder(shape) for topic, shape in shapes.NOTIFICATION_SHAPES.items()
}


class MercadoPagoWebhook(WebhookScheme):
    """`x-signature` over the query's `data.id`, `x-request-id` and `ts`; the notification is the record."""

    raw_tables: ClassVar[Mapping[str, str]] = {EVENTS_TABLE: "data_id"}

    def __init__(self, tolerance_s: float | None = None, *, now: Callable[[], datetime] | None = None) -> None:
        """`tolerance_s`: the most a signed `ts` may differ from now (None: no age check, MP's default).

        `now` is the clock the age check reads (the wall clock, UTC, unless a test says otherwise).
        """
        if tolerance_s is not None and tolerance_s <= 0:
            raise ValueError("tolerance_s must be positive (or None for no age check)")
        self.tolerance_s = tolerance_s
        self._now = now

    def verify(
        self, secret: str, headers: Mapping[str, str], raw_body: bytes, *, query: Mapping[str, str] = EMPTY
    ) -> None:
        """MissingHeaderError without `x-signature`; BadSignatureError when it does not sign this request;
        StaleTimestampError when its `ts` is beyond `tolerance_s` (if one is set).

        An empty `secret` is a ValueError, never a match.
        """
        if not secret:
            raise ValueError("no webhook secret is configured for this integration; nothing can be verified")
        parts = parse_keyed_signatures(header(headers, SIGNATURE_HEADER), header_name=SIGNATURE_HEADER)
        timestamps, signatures = parts.get("ts", []), [s for s in parts.get("v1", []) if s]
        if len(timestamps) != 1 or not timestamps[0]:
            raise BadSignatureError(f"the {SIGNATURE_HEADER} header does not carry exactly one ts")
        if not signatures:
            raise BadSignatureError(f"the {SIGNATURE_HEADER} header carries no v1 signature")
        ts = timestamps[0]
        if not ts.isascii() or not ts.isdigit():
            raise BadSignatureError(f"the {SIGNATURE_HEADER} ts is not a number")
        request_id = _optional_header(headers, REQUEST_ID_HEADER)
        data_id = (query.get(DATA_ID_PARAM) or "").strip() or None

        ids = [data_id] if data_id is None or data_id == data_id.lower() else [data_id, data_id.lower()]
        matched = False
        for candidate in ids:
            expected = hmac_digest(secret, manifest(candidate, request_id, ts).encode())
            matched |= any_equals([s.lower() for s in signatures], expected)
        if not matched:
            raise BadSignatureError(f"the {SIGNATURE_HEADER} signature does not match the integration's webhook secret")

        body_id = _body_data_id(raw_body)
        if body_id is not None and (data_id is None or body_id.lower() != data_id.lower()):
            raise BadSignatureError(
                "the body's data.id is not the one the signature covers"
                if data_id is not None
                else f"the body names a data.id but the signed query string has no {DATA_ID_PARAM}"
            )

        if self.tolerance_s is not None:
            check_timestamp(
                signed_at(ts),
                tolerance=timedelta(seconds=self.tolerance_s),
                now=self._now or (lambda: datetime.now(UTC)),
            )

    def parse(self, raw_body: bytes) -> NormalizedEvent:
        """The notification as one record; WebhookPayloadError when it is not the documented shape.

        Every notification must have a `type` or an `action`, and MP's `id` or a `data.id`; a `payment`
        notification every field of MP's documented example; a chargeback or merchant-order one its
        `data.id`. Topics we do not know are held to the envelope and land all the same (keyed by
        their `data.id`, null when they have none): the raw payload keeps every field.
        """
        envelope = _decode(_ENVELOPE, raw_body, "notification")
        decoder = _DECODERS.get(envelope.type or "")
        if decoder is not None:
            _decode(decoder, raw_body, f"{envelope.type} notification")
        data_id = envelope.data_id
        event_type = envelope.action or envelope.type or ""
        if envelope.id is not None:
            event_id = str(envelope.id)
        else:
            when = envelope.date_created.isoformat() if envelope.date_created is not None else ""
            event_id = ":".join(part for part in (data_id, event_type, when) if part)
        record = RawRecord(EVENTS_TABLE, event_id, bytes(raw_body), {"data_id": data_id})
        return NormalizedEvent(event_id, event_type, envelope.date_created, (record,))


def manifest(data_id: str | None, request_id: str | None, ts: str) -> str:
    """MP's signed template, `id:…;request-id:…;ts:…;`, leaving out the segments whose value is absent."""
    parts = []
    if data_id:
        parts.append(f"id:{data_id};")
    if request_id:
        parts.append(f"request-id:{request_id};")
    parts.append(f"ts:{ts};")
    return "".join(parts)


def signed_at(ts: str) -> datetime:
    """`ts` as an aware UTC time: 13 or more digits are milliseconds, fewer are seconds (see the module docstring)."""
    value = int(ts)
    try:
        return datetime.fromtimestamp(value / 1000 if len(ts) >= 13 else value, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadSignatureError(f"the {SIGNATURE_HEADER} ts is out of range") from None


def _optional_header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value.strip() or None
    return None


def _body_data_id(raw_body: bytes) -> str | None:
    """The body's `data.id` as text, or None when the body has none (or is not JSON: parse says so)."""
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        return None
    data = body.get("data") if isinstance(body, dict) else None
    value = data.get("id") if isinstance(data, dict) else None
    if value is None or isinstance(value, bool | dict | list):
        return None
    return str(value).strip() or None


def _decode(decoder: msgspec.json.Decoder[Any], raw_body: bytes, what: str) -> Any:
    try:
        return decoder.decode(raw_body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # ValidationError is a DecodeError; both messages name the field, never a secret.
        raise WebhookPayloadError(f"mercadopago: the {what} is not the documented shape: {exc}") from None
