"""How the fake Asaas behaves apart from the world it serves: rate limits, quota, User-Agent, `limit` > 100."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Self

ASAAS_RATE_LIMIT = 360  # per endpoint per account per minute: Asaas publishes no figure (UNCONFIRMED)
ASAAS_QUOTA = 25_000  # requests per account per 12 hours, whatever the endpoint (docs.asaas.com "Limites da API")
QUOTA_WINDOW_S = 12 * 3600
LIMIT_OVER_MAX = ("error", "cap")


@dataclass(frozen=True)
class AsaasOptions:
    """Asaas's server knobs (`ServerOptions().with_platform("asaas", …)`). A limit of None switches it off."""

    rate_limit: int | None = ASAAS_RATE_LIMIT
    quota: int | None = ASAAS_QUOTA
    require_user_agent: bool = True  # mandatory for root accounts created from 2024-06-13
    limit_over_max: str = "error"  # `limit` > 100: answer 400 ("error") or serve 100 ("cap")

    def __post_init__(self) -> None:
        for name in ("rate_limit", "quota"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"asaas {name} must be a positive whole number or None (off), got {value!r}")
        if self.limit_over_max not in LIMIT_OVER_MAX:
            raise ValueError(f"asaas limit_over_max must be one of {', '.join(LIMIT_OVER_MAX)}")

    def rate_limits(self) -> dict[str, int | None]:
        return {"": self.rate_limit, "quota": self.quota}

    def with_rate_limit(self, per_minute: int | None) -> Self:
        """The per-endpoint limiter at `per_minute`; None or 0 switches both it and the 12-hour quota off."""
        if not per_minute:
            return replace(self, rate_limit=None, quota=None)
        return replace(self, rate_limit=per_minute, quota=self.quota or ASAAS_QUOTA)
