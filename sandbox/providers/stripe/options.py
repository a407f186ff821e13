"""How the fake Stripe behaves apart from the world it serves: its rate limit."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Self

# Stripe's documented figure for test mode (sk_test_ keys): 25 requests per second, counted here
# per minute (the sandbox's limiter windows) per key and endpoint.
STRIPE_RATE_LIMIT = 25 * 60


@dataclass(frozen=True)
class StripeOptions:
    """Stripe's server knobs (`ServerOptions().with_platform("stripe", …)`). A rate limit of None switches it off."""

    rate_limit: int | None = STRIPE_RATE_LIMIT

    def __post_init__(self) -> None:
        value = self.rate_limit
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"stripe rate_limit must be a positive whole number or None (off), got {value!r}")

    def rate_limits(self) -> dict[str, int | None]:
        return {"": self.rate_limit}

    def with_rate_limit(self, per_minute: int | None) -> Self:
        return replace(self, rate_limit=per_minute or None)
