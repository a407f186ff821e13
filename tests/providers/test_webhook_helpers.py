"""The shared webhook helpers (plugins/providers/webhooks.py): HMAC, constant-time comparison,
timestamp tolerance and signature headers.

Digests are checked against published test vectors, not against values this code produced:
RFC 2202 / RFC 4231 test case 2 for HMAC-SHA1 / HMAC-SHA256, and the Standard Webhooks
specification's example message for the base64 form and the `v1,<b64>` header.
"""

from __future__ import annotations

import base64
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from plugins.providers.errors import BadSignatureError, MissingHeaderError, StaleTimestampError, WebhookError
from plugins.providers.webhooks import (
    DEFAULT_TOLERANCE,
    any_equals,
    check_timestamp,
    constant_time_equals,
    header,
    hmac_digest,
    parse_keyed_signatures,
    parse_unix_timestamp,
    parse_versioned_signatures,
)

# RFC 2202 §3 and RFC 4231 §4.3, test case 2.
JEFE_KEY, JEFE_DATA = "Jefe", b"what do ya want for nothing?"
JEFE_SHA1 = "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
JEFE_SHA256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

# The Standard Webhooks specification's example: secret, message id, timestamp, body, signature header.
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID, SW_TIMESTAMP, SW_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", b'{"test": 2432232314}'
SW_SIGNATURE_HEADER = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def clock(at: datetime = NOW):
    return lambda: at


# ------------------------------------------------------------------------------------ HMAC


def test_hmac_hex_matches_the_rfc_vectors() -> None:
    assert hmac_digest(JEFE_KEY, JEFE_DATA, algorithm="sha256") == JEFE_SHA256
    assert hmac_digest(JEFE_KEY, JEFE_DATA, algorithm="sha1") == JEFE_SHA1
    assert hmac_digest(JEFE_KEY.encode(), JEFE_DATA) == JEFE_SHA256, "a bytes key is the same key"


def test_hmac_base64_is_the_same_digest_base64_encoded() -> None:
    assert hmac_digest(JEFE_KEY, JEFE_DATA, encoding="base64") == base64.b64encode(bytes.fromhex(JEFE_SHA256)).decode()
    assert hmac_digest(JEFE_KEY, JEFE_DATA, algorithm="sha1", encoding="base64") == (
        base64.b64encode(bytes.fromhex(JEFE_SHA1)).decode()
    )


def test_the_standard_webhooks_example_verifies_through_the_helpers() -> None:
    key = base64.b64decode(SW_SECRET.removeprefix("whsec_"))
    expected = hmac_digest(key, f"{SW_ID}.{SW_TIMESTAMP}.".encode() + SW_BODY, encoding="base64")
    signatures = [
        sig
        for version, sig in parse_versioned_signatures(SW_SIGNATURE_HEADER, header_name="webhook-signature")
        if version == "v1"
    ]
    assert any_equals(signatures, expected)
    tampered = hmac_digest(
        key, f"{SW_ID}.{SW_TIMESTAMP}.".encode() + SW_BODY.replace(b"2432232314", b"2432232315"), encoding="base64"
    )
    assert not any_equals(signatures, tampered)


# ---------------------------------------------------------------- constant-time comparison


@pytest.mark.parametrize(
    ("given", "expected", "equal"),
    [
        ("s3cr3t", "s3cr3t", True),
        (b"s3cr3t", "s3cr3t", True),
        ("s3cr3T", "s3cr3t", False),  # differs in the last character
        ("s3cr3", "s3cr3t", False),  # a prefix
        ("s3cr3tt", "s3cr3t", False),  # longer
        ("", "s3cr3t", False),
        ("sêcret", "sêcret", True),  # non-ASCII text is compared as UTF-8, not refused
        ("sêcret", "secret", False),
    ],
)
def test_constant_time_equals(given: str | bytes, expected: str, equal: bool) -> None:
    assert constant_time_equals(given, expected) is equal


def test_any_equals_compares_every_candidate_even_after_a_match(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert any_equals(["right", "wrong", "other"], "right")
    assert len(calls) == 3, "stopping at the match would tell which candidate matched"
    assert not any_equals([], "right")
    assert not any_equals(["nope"], "right")


# ------------------------------------------------------------------------ timestamp tolerance


@pytest.mark.parametrize("offset", [timedelta(0), DEFAULT_TOLERANCE, -DEFAULT_TOLERANCE, timedelta(seconds=-30)])
def test_a_timestamp_within_the_tolerance_passes(offset: timedelta) -> None:
    check_timestamp(NOW + offset, now=clock())


@pytest.mark.parametrize(
    ("offset", "direction"),
    [(-(DEFAULT_TOLERANCE + timedelta(seconds=1)), "old"), (DEFAULT_TOLERANCE + timedelta(seconds=1), "in the future")],
)
def test_a_timestamp_beyond_the_tolerance_either_way_is_stale(offset: timedelta, direction: str) -> None:
    with pytest.raises(StaleTimestampError, match=f"301s {direction}, beyond the 300s tolerance") as raised:
        check_timestamp(NOW + offset, now=clock())
    assert raised.value.http_status == 401


def test_the_tolerance_and_the_clock_are_the_callers() -> None:
    signed = NOW - timedelta(minutes=9)
    check_timestamp(signed, tolerance=timedelta(minutes=10), now=clock())
    with pytest.raises(StaleTimestampError):
        check_timestamp(signed, tolerance=timedelta(minutes=8), now=clock())
    check_timestamp(signed, now=clock(signed + timedelta(seconds=1)))
    with pytest.raises(ValueError, match="timezone-aware"):
        check_timestamp(datetime(2026, 10, 1, 12, 0), now=clock())


def test_the_default_clock_is_the_wall_clock() -> None:
    check_timestamp(datetime.now(UTC))
    with pytest.raises(StaleTimestampError):
        check_timestamp(datetime.now(UTC) - timedelta(hours=1))


def test_unix_timestamps_are_whole_seconds() -> None:
    assert parse_unix_timestamp(SW_TIMESTAMP, header_name="webhook-timestamp") == datetime(
        2021, 2, 25, 15, 2, 10, tzinfo=UTC
    )
    for bad in ("", "abc", "-5", "1.5", "1e9", "١٢٣", "9" * 40):
        with pytest.raises(BadSignatureError, match="webhook-timestamp"):
            parse_unix_timestamp(bad, header_name="webhook-timestamp")


# ---------------------------------------------------------------------------- headers


def test_headers_are_found_whatever_their_case() -> None:
    assert header({"x-webhook-secret": "a"}, "X-Webhook-Secret") == "a"
    assert header({"X-WEBHOOK-SECRET": "b"}, "x-webhook-secret") == "b"
    with pytest.raises(MissingHeaderError, match="no X-Webhook-Secret header") as raised:
        header({"Authorization": "a"}, "X-Webhook-Secret")
    assert isinstance(raised.value, WebhookError) and raised.value.http_status == 401


def test_stripe_style_headers_keep_every_signature_of_a_repeated_key_in_order() -> None:
    value = "t=1492774577,v1=5257a869e7,v1=9a1c07ab32, v0=6ffbb59b2300"
    assert parse_keyed_signatures(value, header_name="Stripe-Signature") == {
        "t": ["1492774577"],
        "v1": ["5257a869e7", "9a1c07ab32"],
        "v0": ["6ffbb59b2300"],
    }


def test_a_rotated_secret_verifies_either_signature_of_a_stripe_style_header() -> None:
    body, timestamp = b'{"id":"evt_1"}', "1492774577"
    old, new = (hmac_digest(s, f"{timestamp}.".encode() + body) for s in ("whsec_old", "whsec_new"))
    parsed = parse_keyed_signatures(f"t={timestamp},v1={old},v1={new}", header_name="Stripe-Signature")
    assert any_equals(parsed["v1"], hmac_digest("whsec_new", f"{parsed['t'][0]}.".encode() + body))
    assert any_equals(parsed["v1"], hmac_digest("whsec_old", f"{parsed['t'][0]}.".encode() + body))
    assert not any_equals(parsed["v1"], hmac_digest("whsec_other", f"{parsed['t'][0]}.".encode() + body))


@pytest.mark.parametrize("value", ["t1492774577", "t=1,v1", "=abc", "t=1,,v1=a", ""])
def test_an_unreadable_stripe_style_header_is_a_bad_signature(value: str) -> None:
    with pytest.raises(BadSignatureError, match="Stripe-Signature header is not a list of key=value pairs"):
        parse_keyed_signatures(value, header_name="Stripe-Signature")


def test_standard_webhooks_headers_keep_every_pair_in_order() -> None:
    value = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,bm9ldHUjZSB2YWxpZA=="
    assert parse_versioned_signatures(value, header_name="webhook-signature") == [
        ("v1", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        ("v1a", "bm9ldHUjZSB2YWxpZA=="),
    ]


@pytest.mark.parametrize("value", ["", "   ", "v1", "v1,", ",abc", "v1,abc v2"])
def test_an_unreadable_standard_webhooks_header_is_a_bad_signature(value: str) -> None:
    with pytest.raises(BadSignatureError, match="webhook-signature header"):
        parse_versioned_signatures(value, header_name="webhook-signature")
