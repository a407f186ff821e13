"""What every platform's webhook scheme needs, written once: constant-time comparison, HMAC,
timestamp tolerance, signature headers.

Platforms sign notifications in a handful of ways (a shared secret sent back in a header; an
HMAC of the body, hex or base64, SHA-1 or SHA-256; a signed timestamp against replays; several
signatures in one header so secrets can be rotated). Each scheme (`plugins/providers/<name>/
webhook.py`) composes these helpers, so the parts that are easy to get subtly wrong (a `==` that
leaks how much of a secret matched, a tolerance checked in one direction only, a header parser
that keeps only the last of several signatures) are right in one place.

Every check raises a `WebhookError` subclass (plugins/providers/errors.py) and never puts a
secret or a signature in its message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal

from plugins.providers.errors import BadSignatureError, MissingHeaderError, StaleTimestampError

Algorithm = Literal["sha1", "sha256"]
Encoding = Literal["hex", "base64"]
DEFAULT_TOLERANCE = timedelta(minutes=5)  # Standard Webhooks' default, and the card gateways'


def constant_time_equals(given: str | bytes, expected: str | bytes) -> bool:
    """Whether two secrets or signatures are equal, in time that does not depend on where they differ.

    A plain `==` stops at the first differing byte, so response times tell an attacker how much of
    a guess was right. `hmac.compare_digest` does not; text is compared as UTF-8 bytes, because
    compare_digest refuses non-ASCII text and a header may hold anything.
    """
    a = given.encode() if isinstance(given, str) else given
    b = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)


def any_equals(candidates: Iterable[str | bytes], expected: str | bytes) -> bool:
    """Whether any candidate equals `expected`, each compared in constant time.

    Every candidate is compared even after a match, so the time spent does not say which one
    matched (a header may carry a signature per active secret while one is rotated).
    """
    matched = False
    for candidate in candidates:
        matched |= constant_time_equals(candidate, expected)
    return matched


def hmac_digest(
    secret: str | bytes, message: bytes, *, algorithm: Algorithm = "sha256", encoding: Encoding = "hex"
) -> str:
    """HMAC of `message` under `secret`, written as the platform writes it (lower-case hex or base64).

    The message is the raw body (or the platform's signed string built from it) exactly as
    received: re-encoding parsed JSON would change the bytes and every signature with them.
    """
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, message, getattr(hashlib, algorithm)).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")


def header(headers: Mapping[str, str], name: str) -> str:
    """The value of header `name`, whatever the case of the names in `headers`; MissingHeaderError if absent.

    HTTP header names are case-insensitive: ASGI servers hand them over lower-cased, people and
    test clients write `X-Webhook-Secret`.
    """
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    raise MissingHeaderError(f"the request has no {name} header")


def parse_unix_timestamp(value: str, *, header_name: str) -> datetime:
    """A signed timestamp (integer seconds since the epoch) as an aware UTC datetime.

    An unreadable timestamp is a BadSignatureError: the request cannot prove when it was signed,
    which is as good as not proving it was signed.
    """
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise BadSignatureError(f"the {header_name} timestamp is not whole seconds since the epoch")
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (OverflowError, OSError, ValueError):
        raise BadSignatureError(f"the {header_name} timestamp is out of range") from None


def check_timestamp(
    signed_at: datetime,
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    now: Callable[[], datetime] | None = None,
) -> None:
    """StaleTimestampError when `signed_at` is more than `tolerance` away from `now()`, either way.

    In the past it is a replay (or a delivery retried long after signing); in the future, a clock
    that is wrong on one side. `now` defaults to the wall clock (UTC) and is injectable so tests
    and replays of recorded traffic decide what "now" is.
    """
    if signed_at.tzinfo is None:
        raise ValueError("signed_at must be timezone-aware")
    current = now() if now is not None else datetime.fromtimestamp(time.time(), UTC)
    skew = current - signed_at
    if abs(skew) > tolerance:
        direction = "old" if skew > timedelta(0) else "in the future"
        raise StaleTimestampError(
            f"the signature's timestamp is {abs(skew).total_seconds():.0f}s {direction}, beyond the "
            f"{tolerance.total_seconds():.0f}s tolerance"
        )


def parse_keyed_signatures(value: str, *, header_name: str) -> dict[str, list[str]]:
    """A `key=value,key=value` signature header, every value of a repeated key kept, in order.

    As card gateways write it: `t=1492774577,v1=5257a8…,v1=9a1c07…,v0=6ffbb5…` gives
    `{"t": ["1492774577"], "v1": ["5257a8…", "9a1c07…"], "v0": ["6ffbb5…"]}`; two `v1` values
    appear while a secret is rotated, and a request is genuine when any of them matches. A part
    without `=` or with an empty key makes the header unreadable (BadSignatureError).
    """
    parsed: dict[str, list[str]] = {}
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep or not key.strip():
            raise BadSignatureError(f"the {header_name} header is not a list of key=value pairs")
        parsed.setdefault(key.strip(), []).append(item.strip())
    return parsed


def parse_versioned_signatures(value: str, *, header_name: str) -> list[tuple[str, str]]:
    """A Standard Webhooks signature header: space-separated `version,signature` pairs, in order.

    `v1,g0hM9SsE… v1,bm9ldHUj…` gives `[("v1", "g0hM9SsE…"), ("v1", "bm9ldHUj…")]`. The signature
    itself is base64 and may hold `=` but never a comma or a space. A pair without its comma, or
    with either side empty, makes the header unreadable (BadSignatureError).
    """
    pairs = []
    for part in value.split():
        version, sep, signature = part.partition(",")
        if not sep or not version or not signature:
            raise BadSignatureError(f"the {header_name} header is not a list of version,signature pairs")
        pairs.append((version, signature))
    if not pairs:
        raise BadSignatureError(f"the {header_name} header is empty")
    return pairs
