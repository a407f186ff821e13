"""Kiwify's knobs of the world: how many sales its producer accounts make, its release and warranty terms.

They extend the checkout's shared knobs (`CheckoutKnobs`) with Kiwify's own, each prefixed
`kiwify_`; their meaning is the Kiwify section of docs/sandbox-world.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.core.knobs import check_rate, check_whole, knob
from sandbox.core.payments.knobs import CheckoutKnobs


@dataclass(frozen=True)
class KiwifyKnobs(CheckoutKnobs):
    """The Kiwify story's knobs (docs/sandbox-world.md, "Kiwify"). Validated on creation."""

    kiwify_orders_per_day: int = field(
        default=6, metadata=knob("INT", "Kiwify: checkout orders per producer account per business day (±25 %).")
    )
    kiwify_release_days: int = field(
        default=2,
        metadata=knob("INT", "Kiwify: business days from payment to release (the contract rows' release_days)."),
    )
    kiwify_warranty_days: int = field(
        default=7, metadata=knob("INT", "Kiwify: guarantee days after payment (refunds happen inside it).")
    )
    kiwify_subscription_share: float = field(
        default=0.15, metadata=knob("RATE", "Kiwify: share of the day's orders that start a subscription.")
    )
    kiwify_subscription_cancel_rate: float = field(
        default=0.25, metadata=knob("RATE", "Kiwify: share of subscriptions the buyer cancels.")
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_whole(self, "kiwify_orders_per_day", 0, 100_000)
        check_whole(self, "kiwify_release_days", 0, 60)
        check_whole(self, "kiwify_warranty_days", 1, 60)
        check_rate(self, "kiwify_subscription_share")
        check_rate(self, "kiwify_subscription_cancel_rate")
