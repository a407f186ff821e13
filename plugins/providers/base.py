"""The contract every provider implements, and the value types that cross it.

Providers only *read* from their API and yield `RawRecord`s; where the records go (COPY into
raw tables, sync-run bookkeeping) is ingestion's business. Keeping the interface this narrow
is what lets the same provider code run in a DAG task, the CLI or a benchmark.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import msgspec

from plugins.providers.transport import TransportOptions

BUSINESS_TZ = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True)
class Interval:
    """A half-open extraction window [start, end) in absolute time.

    Provider APIs filter by business *dates* (São Paulo), so `first_date`/`last_date` give
    the inclusive date range that covers the window.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Interval bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"Interval end {self.end.isoformat()} is not after start {self.start.isoformat()}")

    @classmethod
    def for_dates(cls, first: date, last: date) -> Interval:
        """The window covering business dates first..last inclusive."""
        start = datetime.combine(first, datetime.min.time(), BUSINESS_TZ)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), BUSINESS_TZ)
        return cls(start, end)

    @property
    def first_date(self) -> date:
        return self.start.astimezone(BUSINESS_TZ).date()

    @property
    def last_date(self) -> date:
        return (self.end - timedelta(microseconds=1)).astimezone(BUSINESS_TZ).date()

    def widened(self, lookback: timedelta) -> Interval:
        return Interval(self.start - lookback, self.end)


@dataclass(frozen=True)
class RawRecord:
    """One provider object bound for a raw table.

    `payload` is the object exactly as the provider sent it: decoded (amounts as exact
    Decimals) or, on bulk paths, the original JSON bytes untouched. `keys` are the few
    extracted columns the raw table indexes (e.g. account_id).
    """

    table: str
    external_id: str
    payload: Mapping[str, Any] | bytes | msgspec.Raw
    keys: Mapping[str, str | None] = field(default_factory=dict)


class Provider(ABC):
    """One external system we extract from.

    Subclasses declare which credential and external-id fields they need, so the CLI can
    validate `integrations add` input before anything is stored. `transport` (timeouts, retries,
    sleep and clock) reaches every HTTP call the provider makes; None means the defaults.
    """

    name: ClassVar[str]
    default_base_url: ClassVar[str]
    credential_fields: ClassVar[tuple[str, ...]]
    external_id_fields: ClassVar[tuple[str, ...]]
    raw_tables: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        *,
        credentials: Mapping[str, str],
        external_ids: Mapping[str, list[str]],
        base_url: str | None = None,
        transport: TransportOptions | None = None,
    ) -> None:
        missing = [f for f in self.credential_fields if not credentials.get(f)]
        if missing:
            raise ValueError(f"{self.name} credentials lack {', '.join(missing)}")
        self.credentials = dict(credentials)
        self.external_ids = {k: list(v) for k, v in external_ids.items()}
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.transport_options = transport or TransportOptions()

    @abstractmethod
    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        """Yield every record of this integration that falls in `interval`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release network resources; default has none."""
