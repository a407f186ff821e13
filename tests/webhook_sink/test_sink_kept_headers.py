"""What of a request is stored with its delivery: never a secret, whatever header or parameter carries it."""

from __future__ import annotations

from ingestion.webhook_landing import kept_headers, kept_query

SECRET = "whk-the-integration-secret"


def test_only_audit_and_signature_headers_are_kept_and_never_one_holding_the_secret() -> None:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Platform/1.0",
        "X-Request-Id": "req-1",
        "Stripe-Signature": "t=1,v1=abc",
        "x-signature": "ts=1,v1=def",
        "webhook-id": "msg_1",
        "webhook-timestamp": "1",
        "webhook-signature": "v1,ghi",
        "asaas-access-token": SECRET,
        "x-pushinpay-token": SECRET,
        "X-HOTMART-HOTTOK": SECRET,
        "X-Webhook-Secret": SECRET,
        "Authorization": f"Bearer {SECRET}",
        "Cookie": "session=1",
        "X-Custom-Signature": f"{SECRET}",  # a signature header that is the secret itself: dropped
        "X-Forwarded-For": "10.0.0.1",
    }
    assert kept_headers(headers, SECRET) == {
        "content-type": "application/json",
        "user-agent": "Platform/1.0",
        "x-request-id": "req-1",
        "stripe-signature": "t=1,v1=abc",
        "x-signature": "ts=1,v1=def",
        "webhook-id": "msg_1",
        "webhook-timestamp": "1",
        "webhook-signature": "v1,ghi",
    }


def test_query_parameters_are_kept_unless_named_like_a_credential_or_holding_the_secret() -> None:
    query = {
        "data.id": "123",
        "type": "payment",
        "signature": "abc",
        "token": "t",
        "api_key": "k",
        "x": SECRET,
        "n": "a\x00b",
    }
    assert kept_query(query, SECRET) == {"data.id": "123", "type": "payment", "signature": "abc", "n": "ab"}
