"""How the fake Kiwify behaves apart from the world it serves: its rate limit and token lifetime.

Kiwify's access tokens expire in 96 hours (`expires_in` 345600; docs.kiwify.com.br, "Autenticação").
Kiwify publishes no rate limit we could read: 100 requests per minute per account is our choice
(UNCONFIRMED); a 429 answers `{"error": "too_many_requests", "message": …}` with `Retry-After`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Self

KIWIFY_RATE_LIMIT = 100  # per minute per account (UNCONFIRMED)
TOKEN_TTL_S = 96 * 3600


@dataclass(frozen=True)
class KiwifyOptions:
    """Kiwify's server knobs (`ServerOptions().with_platform("kiwify", …)`). None switches the limiter off."""

    rate_limit: int | None = KIWIFY_RATE_LIMIT
    token_ttl_s: int = TOKEN_TTL_S

    def __post_init__(self) -> None:
        value = self.rate_limit
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"kiwify rate_limit must be a positive whole number or None (off), got {value!r}")
        if isinstance(self.token_ttl_s, bool) or not isinstance(self.token_ttl_s, int) or self.token_ttl_s < 1:
            raise ValueError(f"kiwify token_ttl_s must be a positive whole number, got {self.token_ttl_s!r}")

    def rate_limits(self) -> dict[str, int | None]:
        return {"": self.rate_limit}

    def with_rate_limit(self, per_minute: int | None) -> Self:
        return replace(self, rate_limit=per_minute or None)
