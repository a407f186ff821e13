"""Mercado Pago's knobs of the world: how many orders its accounts take, and when it releases the money.

They extend the checkout's shared knobs (`sandbox.core.payments.knobs.CheckoutKnobs`: refund,
chargeback, failure, over-charge and split-mismatch rates, shared by every gateway) with Mercado
Pago's own, each prefixed `mercadopago_`; all are fields of `sandbox.world.WorldConfig` and options
of `conciliador sandbox`. Their meaning is the Mercado Pago section of docs/sandbox-world.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sandbox.core.knobs import check_rate, check_whole, knob
from sandbox.core.payments.knobs import CheckoutKnobs

# Mercado Pago prices card sales by how soon the money is released (its "taxas e prazos"): the
# sooner, the dearer. The sandbox's contract for 1x card sales, by release term (days from ... up):
CARD_RATE_BY_TERM: tuple[tuple[int, Decimal], ...] = (
    (30, Decimal("3.99")),  # released in 30 days
    (14, Decimal("4.49")),  # released in 14 days
    (0, Decimal("4.98")),  # released at once
)


@dataclass(frozen=True)
class MercadoPagoKnobs(CheckoutKnobs):
    """Mercado Pago's story knobs (docs/sandbox-world.md, "Mercado Pago"). Validated on creation."""

    mercadopago_orders_per_day: int = field(
        default=8,
        metadata=knob("INT", "Mercado Pago: checkout orders per store per business day (jittered ±25 %)."),
    )
    mercadopago_card_release_days: int = field(
        default=30,
        metadata=knob(
            "INT",
            "Mercado Pago: card money is released this many calendar days after approval (moved to a "
            "business day); the contracted card rate follows the term (30: 3.99 %, 14: 4.49 %, 0: 4.98 %).",
        ),
    )
    mercadopago_pix_release_days: int = field(
        default=0,
        metadata=knob("INT", "Mercado Pago: PIX money is released N business days after approval (0: the same day)."),
    )
    mercadopago_review_rate: float = field(
        default=0.05,
        metadata=knob("RATE", "Mercado Pago: share of card payments held in manual review (in_process) for hours."),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_whole(self, "mercadopago_orders_per_day", 0, 100_000)
        check_whole(self, "mercadopago_card_release_days", 0, 120)
        check_whole(self, "mercadopago_pix_release_days", 0, 5)
        check_rate(self, "mercadopago_review_rate")

    @property
    def mercadopago_card_rate(self) -> Decimal:
        """The contracted percent of a 1x card sale for the configured release term."""
        for days, rate in CARD_RATE_BY_TERM:
            if self.mercadopago_card_release_days >= days:
                return rate
        raise AssertionError("unreachable: the last term starts at 0 days")
