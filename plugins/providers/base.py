"""The contract every provider implements, and the value types that cross it.

Providers only *read* from their API and yield `RawRecord`s; where the records go (COPY into
raw tables, sync-run bookkeeping) is ingestion's business. Keeping the interface this narrow
is what lets the same provider code run in a DAG task, the CLI or a benchmark.

The design's provider interface is four verbs: name, sync, validate webhook, parse webhook. The
first two are `Provider`; the last two are a `WebhookScheme`, kept apart and stateless because
the webhook sink must check a request in milliseconds without building an API client (no
credentials, no HTTP connection). A provider points at its scheme through `Provider.webhook`,
None when the platform sends no webhooks.

Where webhook records land: in the raw tables the scheme declares (`WebhookScheme.raw_tables`),
with `source = 'webhook'`. A platform whose notification carries the same object its API serves
may declare that object's API table, so staging reads one table whatever the channel; a platform
whose notification only points at changed data (ids and a link, not the objects) lands the
notification itself in an events table of its own, and the data arrives by extraction. Every
raw table, sync's and webhooks', is created and written from the registry's union of both
(`plugins/providers/registry.py`).

Platforms without a list endpoint: some platforms serve an object only by its id (no listing, no
date filter), so what exists becomes known through their webhooks alone. Such a provider declares
`Provider.known_ids_from` (a `KnownIds`): where in raw the ids it has seen are, and which statuses
no longer change. Ingestion (ingestion/sync.py) then picks the ids worth re-reading for the sync's
interval and hands them to the provider (`Provider.known_ids`), which re-confirms each by id.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import msgspec

from plugins.providers.transport import TransportOptions

BUSINESS_TZ = ZoneInfo("America/Sao_Paulo")

EMPTY: Mapping[str, str] = MappingProxyType({})
"""A read-only empty mapping: the query parameters of a webhook request that has none."""


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


@dataclass(frozen=True)
class NormalizedEvent:
    """One webhook notification, as every platform's scheme hands it to the sink.

    `event_id` is the platform's id for the notification (what redeliveries share, so the sink
    can deduplicate); `event_type` its type as the platform writes it (`item/updated`,
    `charge.succeeded`); `occurred_at` when the platform says the event happened, timezone-aware,
    or None when the platform's payload gives no time (then the sink's receipt time is all there
    is); `records` what lands in raw, in the tables the scheme declares.
    """

    event_id: str
    event_type: str
    occurred_at: datetime | None
    records: tuple[RawRecord, ...]
    source: Literal["webhook"] = "webhook"

    def __post_init__(self) -> None:
        if not self.event_id or not self.event_type:
            raise ValueError("a NormalizedEvent needs an event_id and an event_type")
        if self.occurred_at is not None and self.occurred_at.tzinfo is None:
            raise ValueError("NormalizedEvent.occurred_at must be timezone-aware (or None)")


class WebhookScheme(ABC):
    """How one platform signs and shapes its webhook notifications; stateless, no API client.

    An instance holds configuration only (e.g. which header carries the secret), never
    per-request state, so one instance serves every request of every tenant concurrently.
    `verify` raises a `WebhookError` subclass (plugins/providers/errors.py) naming what failed:
    `MissingHeaderError`, `BadSignatureError`, `StaleTimestampError`; `parse` raises
    `WebhookPayloadError` for a body that is not the documented shape. Verify before parsing:
    an unauthenticated body is not worth decoding.
    """

    # raw table -> its key column, for every table `parse` may put records in
    raw_tables: ClassVar[Mapping[str, str]]

    @abstractmethod
    def verify(
        self, secret: str, headers: Mapping[str, str], raw_body: bytes, *, query: Mapping[str, str] = EMPTY
    ) -> None:
        """Return if the request proves it comes from the platform with `secret`; raise otherwise.

        `headers` are looked up case-insensitively (ASGI gives lower-case names, people write
        `X-Webhook-Secret`); `raw_body` is the bytes exactly as received, since signatures are
        computed over them, never over a re-encoding. `query` holds the request URL's query
        parameters (name -> value, decoded, as the sink received them; EMPTY when there are none):
        some platforms sign what they put there (one signs a resource id passed in the query string,
        another sends the signature itself as a query parameter). Schemes that sign nothing there
        accept the argument and ignore it.
        """

    @abstractmethod
    def parse(self, raw_body: bytes) -> NormalizedEvent:
        """The notification as a NormalizedEvent; WebhookPayloadError when it is not the documented shape."""


@dataclass(frozen=True)
class KnownIds:
    """Where a provider without a list endpoint finds, in raw, the ids its sync re-reads one by one.

    `seen_in`: every raw table where an object's id appears, with the column holding it
    (`external_id`, or the table's key column, e.g. the object id a webhook event names).
    `status_in`: (raw table, column) holding the object's status as last confirmed; the table's
    `external_id` is the object's id. `final_statuses`: the statuses an object no longer leaves.

    For an interval, ingestion picks every id of the integration seen inside the interval (any
    sighting: a webhook row's `received_at`, else when its row was loaded; so a notification about
    an object that looked final re-opens it for that day), plus every id whose latest status is not
    final or was never confirmed. Ids are compared as they are written in raw; a
    provider that normalises ids (e.g. lower-cases UUIDs) does so before its records land.
    """

    seen_in: Mapping[str, str]
    status_in: tuple[str, str]
    final_statuses: frozenset[str]

    def __post_init__(self) -> None:
        if not self.seen_in or self.status_in[0] not in self.seen_in:
            raise ValueError("KnownIds.seen_in must name the status table too: a confirmed object has been seen")


class Provider(ABC):
    """One external system we extract from.

    Subclasses declare which credential and external-id fields they need, so the CLI can
    validate `integrations add` input before anything is stored, and which of those are secret
    (`secret_fields`), so the CLI refuses them as arguments. `raw_tables` maps every raw table
    `sync` yields records for to its one extracted key column: the warehouse creates the tables
    and the raw writer fills them from this declaration (through the registry), so a provider's
    tables are named nowhere else. `transport` (timeouts, retries, sleep and clock) reaches every
    HTTP call the provider makes; None means the defaults.

    `known_ids_from` is for platforms without a list endpoint (see the module docstring): when a
    provider declares it, ingestion passes the ids worth re-reading as `known_ids`, and `sync`
    fetches exactly those (its interval then only says which ids were chosen). Providers that
    list by date leave it None and ignore `known_ids`.
    """

    name: ClassVar[str]
    default_base_url: ClassVar[str]
    credential_fields: ClassVar[tuple[str, ...]]
    secret_fields: ClassVar[tuple[str, ...]]
    external_id_fields: ClassVar[tuple[str, ...]]
    # raw table -> its key column, for every table `sync` yields records for
    raw_tables: ClassVar[Mapping[str, str]]
    # how the platform's webhooks are verified and parsed; None: the platform sends none
    webhook: ClassVar[WebhookScheme | None] = None
    # where the ids a sync re-reads by id are found in raw; None: the platform lists by date
    known_ids_from: ClassVar[KnownIds | None] = None

    def __init__(
        self,
        *,
        credentials: Mapping[str, str],
        external_ids: Mapping[str, list[str]],
        base_url: str | None = None,
        transport: TransportOptions | None = None,
        known_ids: Sequence[str] = (),
    ) -> None:
        missing = [f for f in self.credential_fields if not credentials.get(f)]
        if missing:
            raise ValueError(f"{self.name} credentials lack {', '.join(missing)}")
        self.credentials = dict(credentials)
        self.external_ids = {k: list(v) for k, v in external_ids.items()}
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.transport_options = transport or TransportOptions()
        self.known_ids = tuple(known_ids)

    @classmethod
    def landing_tables(cls) -> dict[str, str]:
        """Every raw table this provider's records land in (sync's and its webhook's), with its key column.

        A table both declare must name the same key column: one table has one key.
        """
        tables = dict(cls.raw_tables)
        for table, key in (cls.webhook.raw_tables if cls.webhook is not None else {}).items():
            if tables.setdefault(table, key) != key:
                raise TypeError(
                    f"{cls.__name__}: raw table {table!r} keyed by {tables[table]!r} for sync but {key!r} for webhooks"
                )
        return tables

    @abstractmethod
    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        """Yield every record of this integration that falls in `interval`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release network resources; default has none."""
