"""The world's knobs that belong to no platform, and the pieces platforms declare theirs with.

`sandbox.world.WorldConfig` is one flat, frozen dataclass (`WorldConfig(seed=7, days=12, …)`),
but its fields come from several places: `WorldKnobs` (size and span of the world), each
registered platform's knobs class (a frozen dataclass subclassing `WorldKnobs`, e.g. the order
and payout rates of a marketplace) and `BankKnobs` (the bank statements' noise). A platform adds
knobs without touching shared code: it declares them in its package and the registry lists the
class. Every field carries CLI metadata (`field(default=…, metadata=knob(metavar, help))`), so `conciliador sandbox` offers every knob
of every platform as an option. Each class checks its own fields in `__post_init__`, after its
bases (cooperative `super()`), so a bad value is refused with a message naming the knob.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any


def knob(metavar: str, help: str) -> dict[str, str]:
    """A knob field's metadata: what the CLI shows (`--flag METAVAR  help [default: …]`)."""
    return {"metavar": metavar, "help": help}


def check_whole(config: object, name: str, low: int, high: int) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:,} and {high:,}, got {value:,}")


def check_rate(config: object, name: str) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1, got {value}")


@dataclass(frozen=True)
class WorldKnobs:
    """Who is in the world and which days it spans; every platform's knobs class extends it."""

    seed: int = field(default=42, metadata=knob("INT", "Everything (ids, amounts, credentials) derives from it."))
    tenants: int = field(default=2, metadata=knob("INT", "Customers, each with its own credentials on every platform."))
    stores_per_tenant: int = field(
        default=2, metadata=knob("INT", "Stores per tenant, each with its own CNPJ and its own bank account.")
    )
    start: date = field(
        default=date(2026, 10, 1), metadata=knob("YYYY-MM-DD", "First business day (America/Sao_Paulo).")
    )
    days: int = field(default=30, metadata=knob("INT", "Number of business days with orders."))

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be a whole number, got {self.seed!r}")
        check_whole(self, "tenants", 1, 999)
        check_whole(self, "stores_per_tenant", 1, 999)
        if isinstance(self.start, datetime) or not isinstance(self.start, date):
            raise ValueError(f"start must be a date (YYYY-MM-DD), got {self.start!r}")
        check_whole(self, "days", 1, 3660)
        if not date(1971, 1, 1) <= self.start <= date(9000, 1, 1):
            raise ValueError(f"start must be between 1971-01-01 and 9000-01-01, got {self.start}")

    @property
    def as_of(self) -> date:
        """ "Today" for the world: the day after the last day with orders."""
        return self.start + timedelta(days=self.days)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        return data

    @classmethod
    def knob_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class BankKnobs(WorldKnobs):
    """The bank statements' knobs (the shared ledger of `sandbox.core.bank`): they come last."""

    bank_noise_per_day: int = field(default=4, metadata=knob("INT", "Unrelated bank transactions per account per day."))

    def __post_init__(self) -> None:
        super().__post_init__()
        check_whole(self, "bank_noise_per_day", 0, 10_000_000)
