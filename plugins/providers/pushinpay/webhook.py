"""PushinPay's webhook notifications: how they authenticate, and what lands of them.

Authentication: PushinPay sends, with every notification, the token the merchant set in its panel
(`app.pushinpay.com.br/settings/webhooks`) in the header `x-pushinpay-token`; the integration's
webhook secret is that token, and `verify` compares the two in constant time. There is no HMAC of
the body and no timestamp (none is documented or seen in any receiver), so a request cannot be
proven fresh: a replay within the token's life passes `verify`, and is absorbed by deduplication
on `event_id` instead. Header name: third-party consensus (six or more independent receivers), the
official docs do not name it.

Body: the transaction as it stands (`id`, `status`, `value` in centavos, and after payment
`end_to_end_id`, `payer_name`, `payer_national_registration`), sent on payment and on refund
(PushinPay's docs: "informações de pagamento ou estorno"). Receivers report both JSON and
`application/x-www-form-urlencoded` bodies; `parse` gets only the bytes, so it tells them apart by
content: a body whose first non-blank byte is `{` is JSON (a form encoder percent-encodes `{`, so
no form body can start with it), anything else must be a well-formed form.

What lands: the notification itself in `pushinpay_webhook_events` keyed by transaction id, with
`event_id` = transaction id + ":" + status as external id (a redelivery of the same status adds
nothing; a later status is a new event); and, when the body carries the transaction's `value`,
the transaction in `pushinpay_transactions` keyed by status, the same table the sync re-confirms
it into. JSON bodies land byte for byte; a form body lands as the JSON object of its fields, every
value the string sent. Transaction ids are lower-cased in external ids and keys (`records.py`).
PushinPay's bodies carry no event time, so `occurred_at` is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import msgspec

from plugins.providers.base import EMPTY, NormalizedEvent, RawRecord, WebhookScheme
from plugins.providers.errors import BadSignatureError, WebhookPayloadError
from plugins.providers.pushinpay import shapes
from plugins.providers.pushinpay.records import form_fields, normal_id
from plugins.providers.webhooks import constant_time_equals, header

TOKEN_HEADER = "x-pushinpay-token"
EVENTS_TABLE = "pushinpay_webhook_events"
TRANSACTIONS_TABLE = "pushinpay_transactions"

_JSON = msgspec.json.Decoder(shapes.Notification)


class PushinPayWebhook(WebhookScheme):
    """A static token header checked in constant time; the notification is the event and the transaction."""

    raw_tables: ClassVar[Mapping[str, str]] = {EVENTS_TABLE: "transaction_id", TRANSACTIONS_TABLE: "status"}

    def verify(
        self, secret: str, headers: Mapping[str, str], raw_body: bytes, *, query: Mapping[str, str] = EMPTY
    ) -> None:
        """MissingHeaderError without `x-pushinpay-token`, BadSignatureError when it is not `secret`.

        An empty `secret` is a ValueError, never a match: an integration without a webhook token
        must not accept requests that send an empty header.
        """
        if not secret:
            raise ValueError("no webhook secret is configured for this integration; nothing can be verified")
        given = header(headers, TOKEN_HEADER)
        if not constant_time_equals(given, secret):
            raise BadSignatureError(f"the {TOKEN_HEADER} header does not match the integration's webhook token")

    def parse(self, raw_body: bytes) -> NormalizedEvent:
        """The notification as an event record (and the transaction, when it carries its value).

        WebhookPayloadError for a body that is neither a JSON object nor a form with a string `id`
        and `status` (and, when present, `value` in whole centavos).
        """
        notification, payload = _read(raw_body)
        transaction_id = normal_id(notification.id)
        event_id = f"{transaction_id}:{notification.status}"
        records = [RawRecord(EVENTS_TABLE, event_id, payload, {"transaction_id": transaction_id})]
        if notification.value is not None:
            records.append(RawRecord(TRANSACTIONS_TABLE, transaction_id, payload, {"status": notification.status}))
        return NormalizedEvent(event_id, notification.status, None, tuple(records))


def _read(raw_body: bytes) -> tuple[shapes.Notification, bytes | dict[str, str]]:
    """The typed notification and the payload to land: the JSON bytes, or the form's fields."""
    if raw_body.lstrip()[:1] == b"{":
        try:
            return _JSON.decode(raw_body), bytes(raw_body)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # a ValidationError names the field
            raise WebhookPayloadError(f"pushinpay: the JSON notification is not the documented shape: {exc}") from None
    try:
        fields = form_fields(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookPayloadError(
            f"pushinpay: the notification is neither a JSON object nor a form-encoded body ({_reason(exc)})"
        ) from None
    try:
        return msgspec.convert(fields, shapes.Notification), fields
    except msgspec.ValidationError as exc:
        raise WebhookPayloadError(f"pushinpay: the form notification is not the documented shape: {exc}") from None


def _reason(exc: Exception) -> str:
    return "not UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
