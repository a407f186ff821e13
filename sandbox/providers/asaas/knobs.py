"""Asaas's knobs of the world: how many checkout orders its accounts take, and when Asaas credits them.

They are fields of `sandbox.world.WorldConfig` (the registry lists `AsaasKnobs` among the world's
knob classes), so `WorldConfig(asaas_orders_per_day=8)` works and `conciliador sandbox` offers each
as an option. The checkout's rates (failed, expired, refunds, chargebacks, payout faults, fee
over-charges, split mismatches) are the shared `CheckoutKnobs`; only the `asaas_` knobs are Asaas's.
The meaning of every knob is the Asaas table in docs/sandbox-world.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.core.knobs import check_whole, knob
from sandbox.core.payments.knobs import CheckoutKnobs


@dataclass(frozen=True)
class AsaasKnobs(CheckoutKnobs):
    """The Asaas story's knobs (docs/sandbox-world.md, "Asaas"). Validated on creation."""

    asaas_orders_per_day: int = field(
        default=5,
        metadata=knob("INT", "Asaas: checkout orders per store per business day (jittered ±25 %)."),
    )
    asaas_pix_credit_days: int = field(
        default=0,
        metadata=knob("INT", "Asaas: business days from a PIX payment to its credit (0 = the same day)."),
    )
    asaas_boleto_credit_days: int = field(
        default=1,
        metadata=knob("INT", "Asaas: business days from a boleto payment to its credit."),
    )
    asaas_card_credit_days: int = field(
        default=30,
        metadata=knob(
            "INT", "Asaas: card installment k is credited k × N calendar days after confirmation (to a business day)."
        ),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_whole(self, "asaas_orders_per_day", 0, 100_000)
        check_whole(self, "asaas_pix_credit_days", 0, 30)
        check_whole(self, "asaas_boleto_credit_days", 0, 30)
        check_whole(self, "asaas_card_credit_days", 1, 366)
