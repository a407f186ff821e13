"""How the fake Hotmart behaves apart from the world it serves: its rate limit and token lifetime.

Hotmart documents 500 calls per minute, 429 beyond, with `RateLimit-Limit`, `RateLimit-Remaining`
and `RateLimit-Reset` headers (reference §6.3, from the scraped developers.hotmart.com pages:
third-party copies of the official docs). Access tokens live `expires_in` = 86400 s (one source).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Self

HOTMART_RATE_LIMIT = 500  # calls per minute
TOKEN_TTL_S = 86_400


@dataclass(frozen=True)
class HotmartOptions:
    """Hotmart's server knobs (`ServerOptions().with_platform("hotmart", …)`). None switches the limiter off."""

    rate_limit: int | None = HOTMART_RATE_LIMIT
    token_ttl_s: int = TOKEN_TTL_S

    def __post_init__(self) -> None:
        value = self.rate_limit
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"hotmart rate_limit must be a positive whole number or None (off), got {value!r}")
        if isinstance(self.token_ttl_s, bool) or not isinstance(self.token_ttl_s, int) or self.token_ttl_s < 1:
            raise ValueError(f"hotmart token_ttl_s must be a positive whole number, got {self.token_ttl_s!r}")

    def rate_limits(self) -> dict[str, int | None]:
        return {"": self.rate_limit}

    def with_rate_limit(self, per_minute: int | None) -> Self:
        """The limiter at `per_minute` (None or 0: off), never above Hotmart's documented 500."""
        if not per_minute:
            return replace(self, rate_limit=None)
        return replace(self, rate_limit=min(per_minute, HOTMART_RATE_LIMIT))
