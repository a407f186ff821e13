"""iFood's knobs of the world: how many orders, which payout schedule, how often things go wrong.

They are fields of `sandbox.world.WorldConfig` (the registry lists `IfoodKnobs` among the world's
knob classes), so `WorldConfig(orders_per_day=12, divergent_rate=0.05)` keeps working and
`conciliador sandbox` offers each as an option. The meaning of every knob is the table in
docs/sandbox-world.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sandbox.core.calendar import roll_forward
from sandbox.core.knobs import WorldKnobs, check_rate, check_whole, knob

PAYOUT_SCHEDULES = ("daily", "weekly")
WEEKLY_PAYOUT_WEEKDAY_OFFSET = 9  # weekly schedule: a Monday–Sunday week is paid on the Wednesday after it
ORDER_RATES = ("sales_only_rate", "cancelled_rate", "refund_after_payment_rate", "orphan_event_rate")
BATCH_RATES = ("divergent_rate", "anticipation_rate", "partial_payment_rate")


@dataclass(frozen=True)
class IfoodKnobs(WorldKnobs):
    """The iFood story's knobs (docs/sandbox-world.md, "Knobs"). Validated on creation."""

    orders_per_day: int = field(default=40, metadata=knob("INT", "Orders per store per day (jittered ±25 %)."))
    payout_term_days: int = field(
        default=3, metadata=knob("INT", "Daily schedule: iFood pays each day's orders D+N days later.")
    )
    payout_schedule: str = field(
        default="daily", metadata=knob("daily|weekly", "Daily (D+N) or weekly (Wednesday after the week) payouts.")
    )
    sales_only_rate: float = field(
        default=0.03, metadata=knob("RATE", "Share of orders that never get financial events.")
    )
    cancelled_rate: float = field(
        default=0.01, metadata=knob("RATE", "Share of orders cancelled after their events were posted.")
    )
    divergent_rate: float = field(default=0.01, metadata=knob("RATE", "Share of payout batches that go wrong."))
    anticipation_rate: float = field(
        default=0.03, metadata=knob("RATE", "Share of payout batches the store anticipates (minus a fee).")
    )
    partial_payment_rate: float = field(
        default=0.03, metadata=knob("RATE", "Share of payout batches paid in two credits.")
    )
    refund_after_payment_rate: float = field(
        default=0.005, metadata=knob("RATE", "Share of orders refunded from a later payout.")
    )
    orphan_event_rate: float = field(
        default=0.003, metadata=knob("RATE", "Share of orders with financial events but no sale.")
    )
    unlisted_settlement_rate: float = field(
        default=0.02, metadata=knob("RATE", "Share of payout batches iFood's settlements API does not list.")
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_whole(self, "orders_per_day", 0, 100_000)
        check_whole(self, "payout_term_days", 0, 365)
        if self.payout_schedule not in PAYOUT_SCHEDULES:
            raise ValueError(
                f"payout_schedule must be one of {', '.join(PAYOUT_SCHEDULES)}, got {self.payout_schedule!r}"
            )
        for name in (*ORDER_RATES[:2], *BATCH_RATES, *ORDER_RATES[2:], "unlisted_settlement_rate"):
            check_rate(self, name)
        if sum(getattr(self, name) for name in ORDER_RATES) > 1:
            raise ValueError(f"{' + '.join(ORDER_RATES)} must not exceed 1")
        if sum(getattr(self, name) for name in BATCH_RATES) > 1:
            raise ValueError(f"{' + '.join(BATCH_RATES)} must not exceed 1")

    def expected_payment_date(self, sale_day: date) -> date:
        """When iFood schedules the payout of a day's sales (the events' `settlement.expectedDate`).

        Daily: D + `payout_term_days` calendar days, moved forward to a business day. Weekly: the
        Wednesday after the sale's Monday–Sunday week, moved forward to a business day.
        """
        if self.payout_schedule == "weekly":
            monday = sale_day - timedelta(days=sale_day.weekday())
            return roll_forward(monday + timedelta(days=WEEKLY_PAYOUT_WEEKDAY_OFFSET))
        return roll_forward(sale_day + timedelta(days=self.payout_term_days))
