"""PushinPay's knobs of the world: how many PIX charges, PushinPay's release term, its status words.

They are fields of `sandbox.world.WorldConfig` (the registry lists `PushinpayKnobs`), all prefixed
`pushinpay_`; the checkout's rates (refunds, expirations, payout faults, over-charges, split
mismatches) are `CheckoutKnobs` fields every gateway shares. The meaning of every knob is the
PushinPay section of docs/sandbox-world.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.core.knobs import check_whole, knob
from sandbox.core.payments.knobs import CheckoutKnobs

UNPAID_STATUSES = ("canceled", "expired")  # PushinPay's docs use both words for a charge never paid
WEBHOOK_ENCODINGS = ("json", "form", "mixed")  # mixed: every other account gets form-encoded notifications


@dataclass(frozen=True)
class PushinpayKnobs(CheckoutKnobs):
    """The PushinPay story's knobs (docs/sandbox-world.md, "PushinPay"). Validated on creation."""

    pushinpay_orders_per_day: int = field(
        default=8, metadata=knob("INT", "PushinPay PIX charges per store per business day (jittered ±25 %).")
    )
    pushinpay_release_days: int = field(
        default=1,
        metadata=knob("INT", "Business days from a PIX payment to its release (the contract's release_days)."),
    )
    pushinpay_charge_ttl_hours: int = field(
        default=96, metadata=knob("INT", "Hours an unpaid PushinPay charge stays `created` before it lapses.")
    )
    pushinpay_unpaid_status: str = field(
        default="canceled", metadata=knob("canceled|expired", "PushinPay's status word for a lapsed charge.")
    )
    pushinpay_webhook_encoding: str = field(
        default="json",
        metadata=knob("json|form|mixed", "Body encoding of PushinPay's notifications (mixed: per account)."),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_whole(self, "pushinpay_orders_per_day", 0, 100_000)
        check_whole(self, "pushinpay_release_days", 0, 60)
        check_whole(self, "pushinpay_charge_ttl_hours", 1, 24 * 30)
        if self.pushinpay_unpaid_status not in UNPAID_STATUSES:
            raise ValueError(
                f"pushinpay_unpaid_status must be one of {', '.join(UNPAID_STATUSES)}, "
                f"got {self.pushinpay_unpaid_status!r}"
            )
        if self.pushinpay_webhook_encoding not in WEBHOOK_ENCODINGS:
            raise ValueError(
                f"pushinpay_webhook_encoding must be one of {', '.join(WEBHOOK_ENCODINGS)}, "
                f"got {self.pushinpay_webhook_encoding!r}"
            )
