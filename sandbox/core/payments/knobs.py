"""The checkout story's knobs, shared by every gateway: how orders are made and how often things go wrong.

Every gateway's knobs class extends `CheckoutKnobs`, so `WorldConfig(refund_rate=0.1)` sets the
rate for all of them at once, and each gateway adds its own (orders per day, release terms) with
its name as prefix. A field inherited from here is the same field in every gateway's class, which
`sandbox.world` accepts as shared (two platforms declaring a field of the same name on their own
are refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.core.knobs import WorldKnobs, check_rate, knob

CHECKOUT_RATES = (
    "affiliate_share",
    "bump_rate",
    "coupon_rate",
    "payment_failed_rate",
    "payment_expired_rate",
    "refund_rate",
    "refund_after_payout_share",
    "chargeback_rate",
    "payout_fault_rate",
    "overcharge_rate",
    "split_mismatch_rate",
)


@dataclass(frozen=True)
class CheckoutKnobs(WorldKnobs):
    """The checkout's knobs (docs/sandbox-world.md, "Gateways"). Validated on creation."""

    affiliate_share: float = field(
        default=0.35, metadata=knob("RATE", "Share of checkout orders brought by an affiliate.")
    )
    bump_rate: float = field(default=0.2, metadata=knob("RATE", "Share of checkout orders that take the order bump."))
    coupon_rate: float = field(default=0.15, metadata=knob("RATE", "Share of checkout orders with a coupon."))
    payment_failed_rate: float = field(
        default=0.04, metadata=knob("RATE", "Share of gateway payments declined or rejected.")
    )
    payment_expired_rate: float = field(
        default=0.05, metadata=knob("RATE", "Share of PIX and boleto payments never paid (expired).")
    )
    refund_rate: float = field(default=0.03, metadata=knob("RATE", "Share of paid gateway payments refunded in full."))
    refund_after_payout_share: float = field(
        default=0.5, metadata=knob("RATE", "Of the refunds, the share made after the payment was paid out.")
    )
    chargeback_rate: float = field(default=0.01, metadata=knob("RATE", "Share of paid card payments charged back."))
    payout_fault_rate: float = field(
        default=0.08,
        metadata=knob("RATE", "Share of gateway payouts that go wrong (late, short, missing, doubled, split, …)."),
    )
    overcharge_rate: float = field(
        default=0.03, metadata=knob("RATE", "Share of payments on which the gateway charges more than the contract.")
    )
    split_mismatch_rate: float = field(
        default=0.03, metadata=knob("RATE", "Share of gateway-executed splits that differ from the split model.")
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in CHECKOUT_RATES:
            check_rate(self, name)
