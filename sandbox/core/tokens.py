"""HS256 JSON Web Tokens for the fake providers' API keys and access tokens.

Providers' API keys and access tokens are often JWTs whose `exp` claim clients read to know when
to renew them. The sandbox signs its own with a key derived from the seed and the platform
(`derive_key(seed, purpose)`), so a token from one sandbox run is accepted by another run of the
same world, and checks them with the standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenError(ValueError):
    """The token is malformed, badly signed or expired (the message says which)."""


class TokenIssuer:
    """Issues and verifies HS256 JWTs with one secret; verified tokens are memoised until they expire."""

    def __init__(self, key: bytes, *, issuer: str, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._issuer = issuer
        self._clock = clock
        self._verified: dict[str, dict[str, Any]] = {}

    def issue(self, subject: str, ttl_s: float, **claims: Any) -> str:
        now = int(self._clock())
        payload = {"iss": self._issuer, "sub": subject, "iat": now, "exp": now + int(ttl_s), **claims}
        signing_input = f"{_b64(json.dumps(_HEADER).encode())}.{_b64(json.dumps(payload).encode())}"
        signature = hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; raises TokenError when it is not one of ours or has expired."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[token] = claims
        if claims["exp"] <= self._clock():
            raise TokenError("token expired")
        return claims

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            header_b64, payload_b64, signature_b64 = token.split(".")
            expected = hmac.new(self._key, f"{header_b64}.{payload_b64}".encode("ascii"), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(signature_b64)):
                raise TokenError("bad signature")
            claims = json.loads(_unb64(payload_b64))
        except TokenError:
            raise
        except (ValueError, UnicodeError) as exc:
            raise TokenError("malformed token") from exc
        if not isinstance(claims, dict) or claims.get("iss") != self._issuer or not isinstance(claims.get("exp"), int):
            raise TokenError("not issued here")
        return claims


def derive_key(seed: int, purpose: str) -> bytes:
    """A signing key that depends only on the world's seed and what it signs."""
    return hashlib.sha256(f"conciliador-sandbox|{seed}|{purpose}".encode()).digest()
