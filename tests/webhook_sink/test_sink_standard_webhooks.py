"""The Standard Webhooks scheme for generic senders, against the official `standardwebhooks` library.

Deliveries signed by the library verify; tampered, expired (and too-new) ones do not; a message
retried later (same body, new timestamp and signature) verifies and keeps its event id, so the
sink's inbox absorbs it; a captured delivery replayed after the tolerance is stale.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from plugins.providers.errors import BadSignatureError, MissingHeaderError, StaleTimestampError, WebhookPayloadError
from plugins.providers.standard_webhooks import StandardWebhooks

SECRET = "whsec_" + base64.b64encode(b"a-generic-sender's-32-byte-key!!").decode()
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SCHEME = StandardWebhooks(events_table="generic_webhook_events", now=lambda: NOW)
BODY = json.dumps({"type": "invoice.paid", "timestamp": "2026-11-28T11:59:58Z", "data": {"amount": "10.05"}}).encode()


def signed(body: bytes, at: datetime, *, msg_id: str = "msg_2bNx0", secret: str = SECRET) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
    }


def test_a_delivery_signed_by_the_library_verifies_and_parses() -> None:
    SCHEME.verify(SECRET, signed(BODY, NOW), BODY)
    event = SCHEME.parse(BODY)
    assert (event.event_type, event.occurred_at) == ("invoice.paid", datetime(2026, 11, 28, 11, 59, 58, tzinfo=UTC))
    assert event.event_id.startswith("sha256:") and event.records[0].table == "generic_webhook_events"
    assert event.records[0].keys == {"event_type": "invoice.paid"}
    with_id = json.dumps({"id": "evt_1", "type": "a.b"}).encode()
    assert SCHEME.parse(with_id).event_id == "evt_1"


def test_a_tampered_body_or_another_secret_is_refused() -> None:
    headers = signed(BODY, NOW)
    with pytest.raises(BadSignatureError):
        SCHEME.verify(SECRET, headers, BODY.replace(b"10.05", b"99.05"))
    other = "whsec_" + base64.b64encode(b"another key").decode()
    with pytest.raises(BadSignatureError):
        SCHEME.verify(other, headers, BODY)
    with pytest.raises(BadSignatureError):
        SCHEME.verify(SECRET, {**headers, "webhook-id": "msg_other"}, BODY)  # the id is signed too


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_an_expired_or_future_signature_is_stale(skew: timedelta) -> None:
    with pytest.raises(StaleTimestampError):
        SCHEME.verify(SECRET, signed(BODY, NOW + skew), BODY)


def test_a_retry_verifies_with_the_same_event_id_and_a_captured_replay_goes_stale() -> None:
    first, retry = signed(BODY, NOW - timedelta(minutes=1)), signed(BODY, NOW)
    SCHEME.verify(SECRET, first, BODY)
    SCHEME.verify(SECRET, retry, BODY)
    assert first["webhook-signature"] != retry["webhook-signature"]
    assert SCHEME.parse(BODY).event_id == SCHEME.parse(BODY).event_id, "the inbox dedupes the retry"
    later = StandardWebhooks(events_table="generic_webhook_events", now=lambda: NOW + timedelta(minutes=10))
    with pytest.raises(StaleTimestampError):
        later.verify(SECRET, retry, BODY)


def test_rotation_signatures_and_unsupported_ones() -> None:
    headers = signed(BODY, NOW)
    old = signed(BODY, NOW, secret="whsec_" + base64.b64encode(b"the old key").decode())["webhook-signature"]
    SCHEME.verify(SECRET, {**headers, "webhook-signature": f"{old} {headers['webhook-signature']}"}, BODY)
    with pytest.raises(BadSignatureError, match="no v1"):
        SCHEME.verify(SECRET, {**headers, "webhook-signature": "v1a,c2lnbmF0dXJl"}, BODY)
    for missing in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        with pytest.raises(MissingHeaderError):
            SCHEME.verify(SECRET, {k: v for k, v in headers.items() if k != missing}, BODY)


@pytest.mark.parametrize("body", [b"[]", b"not json", b'{"data": {}}', b'{"type": ""}'])
def test_a_message_without_a_type_does_not_parse(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        SCHEME.parse(body)


def test_a_secret_that_is_not_a_standard_webhooks_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        SCHEME.verify("whsec_not base64!", signed(BODY, NOW), BODY)
