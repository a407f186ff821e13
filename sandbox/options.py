"""How the fake APIs behave, apart from the world they serve: rate limits and token lifetimes."""

from __future__ import annotations

from dataclasses import dataclass, replace

PLUGGY_RATE_LIMIT = 360  # requests per minute per endpoint per client IP (Pluggy's documented figure)
IFOOD_RATE_LIMIT = 360  # per endpoint per application; iFood publishes no figure for Financial (UNCONFIRMED)
IFOOD_TOKEN_RATE_LIMIT = 100  # iFood's token endpoint: 100 requests per minute


@dataclass(frozen=True)
class ServerOptions:
    """Knobs of the fake providers. A rate limit of None switches that limiter off."""

    pluggy_rate_limit: int | None = PLUGGY_RATE_LIMIT
    ifood_rate_limit: int | None = IFOOD_RATE_LIMIT
    ifood_token_rate_limit: int | None = IFOOD_TOKEN_RATE_LIMIT
    rate_limit_window_s: float = 60.0
    pluggy_api_key_ttl_s: int = 2 * 3600  # Pluggy API keys live two hours
    ifood_token_ttl_s: int = 6 * 3600  # iFood's `expiresIn` (21600 s)
    request_log_size: int = 10_000
    ifood_ondemand_delay_s: float = 1.0  # on-demand reconciliation: seconds from `created` to `processed`
    ifood_download_ttl_s: float = 300.0  # lifetime of a reconciliation file link (pre-signed-URL style)
    ifood_ondemand_dedup_s: float = 6 * 3600  # one on-demand request per merchant + competence per window
    ifood_ondemand_request_ttl_s: float = 24 * 3600  # a requestId answers 404 after this

    def __post_init__(self) -> None:
        for name in ("pluggy_rate_limit", "ifood_rate_limit", "ifood_token_rate_limit"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive whole number or None (off), got {value!r}")
        if self.rate_limit_window_s <= 0:
            raise ValueError("rate_limit_window_s must be positive")
        if self.pluggy_api_key_ttl_s < 1 or self.ifood_token_ttl_s < 1:
            raise ValueError("token lifetimes must be at least one second")
        if self.ifood_ondemand_delay_s < 0 or self.ifood_ondemand_dedup_s < 0:
            raise ValueError("ifood_ondemand_delay_s and ifood_ondemand_dedup_s must not be negative")
        if self.ifood_download_ttl_s <= 0 or self.ifood_ondemand_request_ttl_s <= 0:
            raise ValueError("ifood_download_ttl_s and ifood_ondemand_request_ttl_s must be positive")
        if self.request_log_size < 1:
            raise ValueError("request_log_size must be at least 1")

    def with_rate_limit(self, per_minute: int | None) -> ServerOptions:
        """Every limiter at `per_minute` (None or 0 = all off); iFood's token endpoint keeps its lower figure."""
        if not per_minute:
            return replace(self, pluggy_rate_limit=None, ifood_rate_limit=None, ifood_token_rate_limit=None)
        return replace(
            self,
            pluggy_rate_limit=per_minute,
            ifood_rate_limit=per_minute,
            ifood_token_rate_limit=min(per_minute, IFOOD_TOKEN_RATE_LIMIT),
        )
