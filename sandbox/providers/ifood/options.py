"""How the fake iFood behaves apart from the world it serves: rate limits, token and report lifetimes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Self

IFOOD_RATE_LIMIT = 360  # per endpoint per application; iFood publishes no figure for Financial (UNCONFIRMED)
IFOOD_TOKEN_RATE_LIMIT = 100  # iFood's token endpoint: 100 requests per minute


@dataclass(frozen=True)
class IfoodOptions:
    """iFood's server knobs (`ServerOptions().with_platform("ifood", …)`). A rate limit of None switches it off."""

    rate_limit: int | None = IFOOD_RATE_LIMIT
    token_rate_limit: int | None = IFOOD_TOKEN_RATE_LIMIT
    token_ttl_s: int = 6 * 3600  # iFood's `expiresIn` (21600 s)
    ondemand_delay_s: float = 1.0  # on-demand reconciliation: seconds from `created` to `processed`
    download_ttl_s: float = 300.0  # lifetime of a reconciliation file link (pre-signed-URL style)
    ondemand_dedup_s: float = 6 * 3600  # one on-demand request per merchant + competence per window
    ondemand_request_ttl_s: float = 24 * 3600  # a requestId answers 404 after this

    def __post_init__(self) -> None:
        for name in ("rate_limit", "token_rate_limit"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"ifood {name} must be a positive whole number or None (off), got {value!r}")
        if self.token_ttl_s < 1:
            raise ValueError("ifood token_ttl_s must be at least one second")
        if self.ondemand_delay_s < 0 or self.ondemand_dedup_s < 0:
            raise ValueError("ifood ondemand_delay_s and ondemand_dedup_s must not be negative")
        if self.download_ttl_s <= 0 or self.ondemand_request_ttl_s <= 0:
            raise ValueError("ifood download_ttl_s and ondemand_request_ttl_s must be positive")

    def rate_limits(self) -> dict[str, int | None]:
        return {"": self.rate_limit, "token": self.token_rate_limit}

    def with_rate_limit(self, per_minute: int | None) -> Self:
        """Both limiters at `per_minute` (None or 0 = off); the token endpoint keeps its lower figure."""
        if not per_minute:
            return replace(self, rate_limit=None, token_rate_limit=None)
        return replace(self, rate_limit=per_minute, token_rate_limit=min(per_minute, IFOOD_TOKEN_RATE_LIMIT))
