"""Hotmart's knobs of the world: how many sales its producer accounts make, its release and warranty terms.

They extend the checkout's shared knobs (`sandbox.core.payments.knobs.CheckoutKnobs`: failure,
expiry, refund, chargeback, over-charge, split-mismatch and payout-fault rates) with Hotmart's own,
each prefixed `hotmart_`; all are fields of `sandbox.world.WorldConfig` and options of
`conciliador sandbox`. Their meaning is the Hotmart section of docs/sandbox-world.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.core.knobs import check_rate, check_whole, knob
from sandbox.core.payments.knobs import CheckoutKnobs


@dataclass(frozen=True)
class HotmartKnobs(CheckoutKnobs):
    """The Hotmart story's knobs (docs/sandbox-world.md, "Hotmart"). Validated on creation."""

    hotmart_orders_per_day: int = field(
        default=6, metadata=knob("INT", "Hotmart: checkout orders per producer account per business day (±25 %).")
    )
    hotmart_release_days: int = field(
        default=2,
        metadata=knob("INT", "Hotmart: business days from payment to release (the contract rows' release_days)."),
    )
    hotmart_warranty_days: int = field(
        default=7, metadata=knob("INT", "Hotmart: warranty days after payment (refunds inside it; then COMPLETE).")
    )
    hotmart_subscription_share: float = field(
        default=0.15, metadata=knob("RATE", "Hotmart: share of the day's orders that start a subscription.")
    )
    hotmart_subscription_cancel_rate: float = field(
        default=0.25, metadata=knob("RATE", "Hotmart: share of subscriptions the buyer cancels.")
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_whole(self, "hotmart_orders_per_day", 0, 100_000)
        check_whole(self, "hotmart_release_days", 0, 60)
        check_whole(self, "hotmart_warranty_days", 1, 60)
        check_rate(self, "hotmart_subscription_share")
        check_rate(self, "hotmart_subscription_cancel_rate")
