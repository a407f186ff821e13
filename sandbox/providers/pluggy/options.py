"""How the fake Pluggy behaves apart from the world it serves: its rate limit and API-key lifetime."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Self

PLUGGY_RATE_LIMIT = 360  # requests per minute per endpoint per client IP (Pluggy's documented figure)


@dataclass(frozen=True)
class PluggyOptions:
    """Pluggy's server knobs (`ServerOptions().with_platform("pluggy", …)`). A rate limit of None switches it off."""

    rate_limit: int | None = PLUGGY_RATE_LIMIT
    api_key_ttl_s: int = 2 * 3600  # Pluggy API keys live two hours

    def __post_init__(self) -> None:
        value = self.rate_limit
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"pluggy rate_limit must be a positive whole number or None (off), got {value!r}")
        if self.api_key_ttl_s < 1:
            raise ValueError("pluggy api_key_ttl_s must be at least one second")

    def rate_limits(self) -> dict[str, int | None]:
        return {"": self.rate_limit}

    def with_rate_limit(self, per_minute: int | None) -> Self:
        return replace(self, rate_limit=per_minute or None)
