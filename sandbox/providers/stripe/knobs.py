"""Stripe's knobs of the world: how many checkout orders its accounts take, and its release terms.

`StripeKnobs` extends the checkout's shared knobs (`CheckoutKnobs`: failure, refund, chargeback,
payout-fault, over-charge and split-mismatch rates, shared by every gateway) with Stripe's own,
each prefixed `stripe_`. The registry lists the class, so every field is a `WorldConfig` field and
a `conciliador sandbox` option. Their meaning is the Stripe table in docs/sandbox-world.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sandbox.core.calendar import add_business_days, roll_forward
from sandbox.core.knobs import check_rate, check_whole, knob
from sandbox.core.payments.knobs import CheckoutKnobs


@dataclass(frozen=True)
class StripeKnobs(CheckoutKnobs):
    """Stripe's knobs (docs/sandbox-world.md, "Stripe"). Validated on creation."""

    stripe_orders_per_day: int = field(
        default=6, metadata=knob("INT", "Stripe: checkout orders per store per business day (jittered ±25 %).")
    )
    stripe_card_release_days: int = field(
        default=30,
        metadata=knob("INT", "Stripe: card funds become available N calendar days after payment (next business day)."),
    )
    stripe_pix_release_days: int = field(
        default=2, metadata=knob("INT", "Stripe: PIX funds become available N business days after payment.")
    )
    stripe_held_rate: float = field(
        default=0.02, metadata=knob("RATE", "Stripe: share of released charges held back from every payout.")
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_whole(self, "stripe_orders_per_day", 0, 100_000)
        check_whole(self, "stripe_card_release_days", 1, 365)
        check_whole(self, "stripe_pix_release_days", 0, 60)
        check_rate(self, "stripe_held_rate")

    def available_on(self, method: str, paid_day: date) -> date:
        """When a charge's funds become available (its balance transaction's `available_on`)."""
        if method == "card":
            return roll_forward(paid_day + timedelta(days=self.stripe_card_release_days))
        return roll_forward(add_business_days(paid_day, self.stripe_pix_release_days))
