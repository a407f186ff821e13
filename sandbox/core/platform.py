"""What a platform package gives the sandbox, and what the sandbox gives it back.

One package per platform under `sandbox/providers/<name>/` exports one `SandboxPlatform`, and the
sandbox registry (`sandbox.registry`) lists them. The world, the server, the fault injection, the
server options, the credentials and the CLI loop over that list; no shared module names a
platform. The interfaces here are structural (`Protocol`s): a package implements them without
importing anything but `sandbox.core`.

How a world is built (`sandbox.world.World`), each step over every platform in registry order:

1. `generator = platform.generator(config)` — one generator per platform for this world;
2. per tenant, `generator.sign_up(tenant_id, parties_rng)`: the tenant's credentials there;
3. per store, the registry's store-founding platform draws the store (`StoreFounder`) and the
   registry's bank opens its account (`BankOpener`);
4. `generator.plan(parties)`: the platform generates its facts for the stores and returns the
   bank credits it pays (`PlannedCredit`s, each naming its `Payer`);
5. the world posts every planned credit into the stores' ledgers (`sandbox.core.bank`);
6. `generator.finish(PostedBank)`: the platform learns which bank transaction each of its credits
   became and returns its `PlatformFacts` (`World.facts[name]`), which carry its ground truth.

Steps 2 and 3 draw from the world's shared "parties" stream for the platforms the first worlds
were built with; a platform added later should draw from streams labelled with its own name
(`sandbox.core.streams.stream(seed, name, …)`), so adding it does not move anyone else's facts.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, Self, runtime_checkable

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from sandbox.core.bank import BankLedger, PlannedCredit
from sandbox.core.counterparties import Counterparties
from sandbox.core.knobs import WorldKnobs
from sandbox.core.parties import BankAccount, ClientCredentials, Parties, Store, StoreIdentity, Tenant


@dataclass(frozen=True)
class PostedBank:
    """The bank after the world posted every planned credit: statements by account id, and the
    transaction id of each posted credit (a credit dated on or after the world's end is not posted)."""

    ledgers: Mapping[str, BankLedger]
    posted: Mapping[PlannedCredit, str]


class PlatformFacts(Protocol):
    """What one platform generated for a world (`World.facts[name]`)."""

    statuses: tuple[str, ...]  # its ground-truth statuses in display order (empty: it has no ground truth)
    reasons: tuple[tuple[str, str | None], ...]  # its (status, reason) pairs in rule order
    truth_columns: tuple[str, ...]  # the keys of its ground-truth rows, in CSV order

    def ground_truth(self) -> list[dict[str, Any]]:
        """Its ground-truth rows (each with a `status` and a `reason`)."""
        ...

    def tenant_credentials(self, tenant: Tenant) -> dict[str, Any]:
        """What the tenant configures for this platform: client credentials and resource ids (JSON)."""
        ...

    def summary(self) -> dict[str, int]:
        """Counts the server's health answer shows (e.g. orders, payout batches)."""
        ...

    def digest_parts(self) -> Iterator[str]:
        """Every generated fact, as text, for `World.digest()`."""
        ...


class PlatformGenerator(Protocol):
    """Builds one platform's part of one world (steps 2, 4 and 6 above)."""

    def sign_up(self, tenant_id: str, rng: random.Random) -> ClientCredentials: ...

    def plan(self, parties: Parties) -> Sequence[PlannedCredit]: ...

    def finish(self, bank: PostedBank) -> PlatformFacts: ...


@runtime_checkable
class StoreFounder(Protocol):
    """The platform whose records the world's stores are: it draws each store's names and CNPJ."""

    def found_store(self, tenant_index: int, store_index: int, rng: random.Random) -> StoreIdentity: ...


@runtime_checkable
class BankOpener(Protocol):
    """The bank platform: it opens each store's account (`position` = the store's index in the world)."""

    def open_account(self, position: int, rng: random.Random) -> BankAccount: ...


class SharedWorld(Protocol):
    """What a platform's fake API sees of the world besides its own facts."""

    config: WorldKnobs
    as_of: date
    tenants: tuple[Tenant, ...]
    stores: tuple[Store, ...]
    ledgers: Mapping[str, BankLedger]
    counterparties: Counterparties
    store_by_account: Mapping[str, Store]


class PlatformOptions(Protocol):
    """A platform's server knobs (rate limits, token lifetimes, …): a frozen dataclass, defaults = its documented behaviour."""

    def rate_limits(self) -> dict[str, int | None]:
        """Its limiters for the health answer: "" names the main one, other keys are suffixes ("token")."""
        ...

    def with_rate_limit(self, per_minute: int | None) -> Self:
        """Every limiter at `per_minute` (None or 0: off), capped where the platform documents a lower figure."""
        ...


@dataclass(frozen=True)
class OutsideRoute:
    """A route a platform serves outside its own prefix (e.g. pre-signed download links).

    Requests under `prefix` are logged and faulted as this platform's, matched on the full path.
    """

    prefix: str
    route: BaseRoute


class PlatformApi(Protocol):
    """A platform's fake API for one world."""

    def app(self) -> ASGIApp:
        """The ASGI app the server mounts at `/<name>`."""
        ...

    def outside_routes(self) -> Sequence[OutsideRoute]: ...

    def close(self) -> None:
        """Stop background work (page-ahead workers)."""
        ...


ApiFactory = Callable[..., PlatformApi]  # (world: SharedWorld, facts, options, *, window_s: float, clock) → api
ErrorBody = Callable[[int, str], Any]  # (status, message) → the platform's error envelope
WebhookRenderer = Callable[..., Sequence[Any]]  # (facts, account name, *, now) → [Delivery, …]


@dataclass(frozen=True)
class SandboxPlatform:
    """One registry line: everything the sandbox needs to generate and serve a platform."""

    name: str  # URL prefix (/<name>), and its name in credentials, faults, logs and server options
    title: str  # how people write it (capitals and all), for messages and help
    generator: Callable[[Any], PlatformGenerator]  # (world config) → its generator for that world
    options: Callable[[], PlatformOptions]  # its server knobs' class (called without arguments: defaults)
    api: ApiFactory
    error_body: ErrorBody  # answered for an injected fault that gives only a status
    knobs: type[WorldKnobs] | None = None  # its fields of WorldConfig: a frozen dataclass extending WorldKnobs
    # (facts, account name, *, now) → the signed notifications the platform sent that account
    # (sandbox.core.webhooks.Delivery), oldest first: the story's events up to `now`, signed as at
    # `now` where the scheme has a timestamp. None: the platform sends no webhooks here.
    webhooks: WebhookRenderer | None = None
