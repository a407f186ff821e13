"""How the fake Mercado Pago behaves apart from the world it serves: its rate limit.

Mercado Pago publishes no request quota for its REST API (it answers 429 when a token goes too
fast, and the official SDK retries 429); the sandbox's figure is its own choice: 600 requests per
minute per endpoint and access token.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Self

MERCADOPAGO_RATE_LIMIT = 600  # per endpoint per access token per minute; MP states no figure (the sandbox's choice)


@dataclass(frozen=True)
class MercadoPagoOptions:
    """Mercado Pago's server knobs (`ServerOptions().with_platform("mercadopago", …)`); None switches the limit off."""

    rate_limit: int | None = MERCADOPAGO_RATE_LIMIT

    def __post_init__(self) -> None:
        value = self.rate_limit
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"mercadopago rate_limit must be a positive whole number or None (off), got {value!r}")

    def rate_limits(self) -> dict[str, int | None]:
        return {"": self.rate_limit}

    def with_rate_limit(self, per_minute: int | None) -> Self:
        return replace(self, rate_limit=per_minute or None)
