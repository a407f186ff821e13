"""Standard Webhooks (standardwebhooks.com): the signing scheme of generic senders, as one reusable scheme.

A platform that signs its notifications per the Standard Webhooks specification needs no scheme of
its own: its provider declares `webhook = StandardWebhooks(events_table="<name>_webhook_events")`
and joins through the registry like any other; the webhook sink then serves it at
`/integrations/webhooks/<name>/<integration id>` with nothing else to write.

Signature (the specification, "Verifying webhook authenticity"): three headers, `webhook-id` (the
message id, the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature`
(space-separated `v1,<base64>` entries, several while a secret is rotated). Each `v1` is the base64
HMAC-SHA256 of `"{id}.{timestamp}.{raw body}"` keyed with the secret's bytes: the secret is written
`whsec_<base64>` and the key is the base64-decoded part (not the text itself).
A request is genuine when any `v1` matches, compared in constant time; then its timestamp must be
within the tolerance (5 minutes) either way. Asymmetric `v1a` signatures are not supported: a
sender using them fails here with BadSignatureError ("no v1 signature").

Payload: the specification recommends `{"type", "timestamp", "data"}` and puts the message id in
the `webhook-id` header, which `parse` does not see (it gets the body only). So the event id is the
body's `id` when it has one, else the SHA-256 of the body: a retry of the same message resends the
same body (the signature changes, the body does not), so it dedupes all the same. The whole body
lands in the declared events table, keyed by its `type`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import msgspec

from plugins.providers.base import EMPTY, NormalizedEvent, RawRecord, WebhookScheme
from plugins.providers.errors import BadSignatureError, WebhookPayloadError
from plugins.providers.webhooks import (
    DEFAULT_TOLERANCE,
    any_equals,
    check_timestamp,
    header,
    hmac_digest,
    parse_unix_timestamp,
    parse_versioned_signatures,
)

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
SCHEME = "v1"


class _Envelope(msgspec.Struct):
    type: str
    id: str | None = None
    timestamp: datetime | None = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)


class StandardWebhooks(WebhookScheme):
    """Standard Webhooks' symmetric `v1` signature; the message lands whole in `events_table`."""

    def __init__(
        self,
        *,
        events_table: str,
        key_column: str = "event_type",
        tolerance: timedelta = DEFAULT_TOLERANCE,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.events_table = events_table
        self.key_column = key_column
        self.raw_tables = {events_table: key_column}
        self.tolerance = tolerance
        self._now = now

    def verify(
        self, secret: str, headers: Mapping[str, str], raw_body: bytes, *, query: Mapping[str, str] = EMPTY
    ) -> None:
        """MissingHeaderError without any of the three headers; BadSignatureError when no `v1` matches
        (or a header is unreadable); StaleTimestampError when a matching one is too old or too new."""
        key = signing_key(secret)
        message_id = header(headers, ID_HEADER)
        stamp = header(headers, TIMESTAMP_HEADER).strip()
        signed_at = parse_unix_timestamp(stamp, header_name=TIMESTAMP_HEADER)
        pairs = parse_versioned_signatures(header(headers, SIGNATURE_HEADER), header_name=SIGNATURE_HEADER)
        signatures = [signature for version, signature in pairs if version == SCHEME]
        if not signatures:
            raise BadSignatureError(f"the {SIGNATURE_HEADER} header has no {SCHEME} signature")
        expected = hmac_digest(key, f"{message_id}.{stamp}.".encode() + raw_body, encoding="base64")
        if not any_equals(signatures, expected):
            raise BadSignatureError(f"no {SCHEME} signature in the {SIGNATURE_HEADER} header matches the body")
        check_timestamp(signed_at, tolerance=self.tolerance, now=self._now)

    def parse(self, raw_body: bytes) -> NormalizedEvent:
        """The message as one record; WebhookPayloadError unless it is a JSON object with a string `type`."""
        try:
            envelope = _ENVELOPE.decode(raw_body)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise WebhookPayloadError(
                f"standard webhooks: the message is not a JSON object with a type: {exc}"
            ) from None
        if not envelope.type:
            raise WebhookPayloadError("standard webhooks: the message's type is empty")
        event_id = envelope.id or "sha256:" + hashlib.sha256(raw_body).hexdigest()
        occurred_at = envelope.timestamp if envelope.timestamp is None or envelope.timestamp.tzinfo else None
        record = RawRecord(self.events_table, event_id, bytes(raw_body), {self.key_column: envelope.type})
        return NormalizedEvent(event_id, envelope.type, occurred_at, (record,))


def signing_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (the prefix is optional, as the official libraries allow)."""
    if not secret or not secret.strip():
        raise ValueError("no webhook secret is configured for this integration; nothing can be verified")
    try:
        key = base64.b64decode(secret.strip().removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the webhook secret is not a Standard Webhooks secret (whsec_ and base64)") from None
    if not key:
        raise ValueError("the webhook secret is empty once decoded")
    return key
