"""How the fake PushinPay behaves apart from the world it serves: its rate limits.

PushinPay documents a 429 ("Muitas requisições em um curto espaço de tempo") but no figure, so the
general limit is our choice (UNCONFIRMED). Third-party guides report about one query per minute per
transaction on `GET /api/transactions/{id}`, with accounts blocked beyond it (UNCONFIRMED): that
per-transaction limiter is an option, **off by default**; `transaction_rate_limit=1` switches it on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Self

PUSHINPAY_RATE_LIMIT = 360  # requests per minute per endpoint per client; no published figure (UNCONFIRMED)
PUSHINPAY_TRANSACTION_RATE_LIMIT = 1  # the reported per-transaction figure (third-party, UNCONFIRMED)


@dataclass(frozen=True)
class PushinpayOptions:
    """PushinPay's server knobs (`ServerOptions().with_platform("pushinpay", …)`). None switches a limiter off.

    `transaction_rate_limit`: reads of one transaction id per window per token (None: off, the
    default; the health answer lists the limiter only when it is on).
    """

    rate_limit: int | None = PUSHINPAY_RATE_LIMIT
    transaction_rate_limit: int | None = None

    def __post_init__(self) -> None:
        for name in ("rate_limit", "transaction_rate_limit"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"pushinpay {name} must be a positive whole number or None (off), got {value!r}")

    def rate_limits(self) -> dict[str, int | None]:
        limits: dict[str, int | None] = {"": self.rate_limit}
        if self.transaction_rate_limit is not None:
            limits["transaction"] = self.transaction_rate_limit
        return limits

    def with_rate_limit(self, per_minute: int | None) -> Self:
        """The general limiter at `per_minute` (None or 0: every limiter off); a per-transaction limit
        that is on keeps its (lower) figure."""
        if not per_minute:
            return replace(self, rate_limit=None, transaction_rate_limit=None)
        per_transaction = self.transaction_rate_limit
        return replace(
            self,
            rate_limit=per_minute,
            transaction_rate_limit=None if per_transaction is None else min(per_transaction, per_minute),
        )
