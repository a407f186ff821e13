"""The sandbox world: tenants, their stores and bank accounts, and every registered platform's facts.

`World(WorldConfig(...))` is a pure function of the config: the same knobs give a byte-identical
world (ids, amounts, credentials), because every random draw comes from a stream seeded with the
seed plus a label naming what it generates (`sandbox.core.streams`). Labels keep the streams
independent, so e.g. more bank noise does not reshuffle the orders.

The world is a composition over the sandbox registry (`sandbox.registry.PLATFORMS`): it signs the
tenants up on every platform, has the store-founding platform draw the stores and the bank open
their accounts, lets each platform generate its facts and plan the bank credits it pays, posts
those credits into the stores' ledgers (`sandbox.core.bank`), then hands each platform its posted
credits so it can finish its facts (`World.facts[name]`) and its ground truth. The steps and the
interfaces are in `sandbox.core.platform`; the story is told in docs/sandbox-world.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from functools import cached_property
from typing import Any

from sandbox.core.bank import BankLedger, PlannedCredit, build_ledger
from sandbox.core.counterparties import Counterparties, make_counterparties
from sandbox.core.knobs import BankKnobs, WorldKnobs
from sandbox.core.parties import Parties, Store, Tenant
from sandbox.core.platform import BankOpener, PlatformFacts, PlatformGenerator, PostedBank, StoreFounder
from sandbox.core.streams import stream
from sandbox.registry import BANK, PLATFORMS, STORES

_PLATFORM_KNOBS = tuple(p.knobs for p in PLATFORMS if p.knobs is not None)


def _check_knob_names() -> None:
    """Two platforms declaring a knob of the same name would silently share it: refuse at import.

    A knob both inherit from one shared base class (e.g. the checkout's knobs every gateway extends)
    is one field, shared on purpose: the same `Field` object in both classes.
    """
    shared = {f.name for f in fields(BankKnobs)}
    seen: dict[str, tuple[str, object]] = {}
    for knobs in _PLATFORM_KNOBS:
        for f in fields(knobs):
            if f.name in shared:
                continue
            if f.name in seen and seen[f.name][1] is not f:
                raise RuntimeError(f"knob {f.name} is declared by both {seen[f.name][0]} and {knobs.__name__}")
            seen.setdefault(f.name, (knobs.__name__, f))


_check_knob_names()


@dataclass(frozen=True)
class WorldConfig(BankKnobs, *reversed(_PLATFORM_KNOBS)):  # type: ignore[misc]
    """The knobs of the world (see the table in docs/sandbox-world.md). Validated on creation.

    One flat dataclass: `WorldKnobs` (seed, tenants, stores, span), then every registered
    platform's knobs in registry order, then `BankKnobs` (bank noise). Each class checks its own.
    """


class World:
    """Everything the fake platforms serve and the ground truth it implies, built from a `WorldConfig`.

    Attributes: `config`, `as_of`, `tenants` (each with its `stores`), `stores`, `ledgers` (bank
    statement per account id), `counterparties` (of the bank noise), `facts` (each registered
    platform's facts by registry name, `world.facts[name]`), and lookups `store_by_account`,
    `tenant_by_id`.
    """

    def __init__(self, config: WorldConfig | None = None) -> None:
        self.config: WorldConfig = config or WorldConfig()
        cfg = self.config
        self.as_of: date = cfg.as_of
        self.counterparties: Counterparties = make_counterparties(stream(cfg.seed, "counterparties"))
        generators: dict[str, PlatformGenerator] = {p.name: p.generator(cfg) for p in PLATFORMS}
        self.tenants: tuple[Tenant, ...] = self._make_tenants(generators)
        self.stores: tuple[Store, ...] = tuple(s for t in self.tenants for s in t.stores)
        parties = Parties(self.tenants, self.stores)
        planned = [credit for generator in generators.values() for credit in generator.plan(parties)]
        self.ledgers: dict[str, BankLedger]
        self.ledgers, posted = self._post(planned)
        bank = PostedBank(self.ledgers, posted)
        self.facts: dict[str, PlatformFacts] = {name: g.finish(bank) for name, g in generators.items()}
        self.store_by_account = {s.account_id: s for s in self.stores}
        self.tenant_by_id = {t.tenant_id: t for t in self.tenants}

    def _make_tenants(self, generators: Mapping[str, PlatformGenerator]) -> tuple[Tenant, ...]:
        """Tenants sign up on every platform; the store platform founds each store, the bank opens its account.

        All from the "parties" stream, in the order the first worlds drew it (tenant credentials in
        registry order, then per store the founder's draws and the bank's).
        """
        cfg = self.config
        founder, bank = generators[STORES], generators[BANK]
        if not isinstance(founder, StoreFounder) or not isinstance(bank, BankOpener):
            raise TypeError(
                f"the registry's store platform ({STORES}) must found stores and its bank ({BANK}) open accounts"
            )
        rng = stream(cfg.seed, "parties")
        tenants = []
        for t in range(cfg.tenants):
            tenant_id = f"tenant-{t + 1:03d}"
            credentials = {name: g.sign_up(tenant_id, rng) for name, g in generators.items()}
            stores = []
            for s in range(cfg.stores_per_tenant):
                identity = founder.found_store(t, s, rng)
                account = bank.open_account(t * cfg.stores_per_tenant + s, rng)
                stores.append(Store(tenant_id, identity.name, identity.legal_name, identity.cnpj, account))
            tenants.append(Tenant(tenant_id, credentials, tuple(stores)))
        return tuple(tenants)

    def _post(self, planned: Sequence[PlannedCredit]) -> tuple[dict[str, BankLedger], dict[PlannedCredit, str]]:
        """Every store's statement: its noise (stream ("bank", store index)) and the credits planned into it."""
        cfg = self.config
        by_account: dict[str, list[PlannedCredit]] = {s.account_id: [] for s in self.stores}
        for credit in planned:
            by_account[credit.account_id].append(credit)
        ledgers: dict[str, BankLedger] = {}
        posted: dict[PlannedCredit, str] = {}
        for index, store in enumerate(self.stores):
            ledger, ids = build_ledger(
                stream(cfg.seed, "bank", index),
                account_id=store.account_id,
                start=cfg.start,
                days=cfg.days,
                noise_per_day=cfg.bank_noise_per_day,
                credits=by_account[store.account_id],
                counterparties=self.counterparties,
                opening_balance_cents=int(store.account.opening_balance * 100),
            )
            ledgers[store.account_id] = ledger
            posted.update(ids)
        return ledgers, posted

    # ------------------------------------------------------------------------------------ views

    @cached_property
    def bank_transaction_count(self) -> int:
        return sum(len(ledger) for ledger in self.ledgers.values())

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every ground-truth status of every platform, in registry then display order, each once
        (the gateways share theirs)."""
        return tuple(dict.fromkeys(status for facts in self.facts.values() for status in facts.statuses))

    @property
    def reasons(self) -> tuple[tuple[str, str | None], ...]:
        """Every (status, reason) pair of every platform's rules, in registry then rule order, each once."""
        return tuple(dict.fromkeys(pair for facts in self.facts.values() for pair in facts.reasons))

    def ground_truth(self) -> list[dict[str, Any]]:
        """Every platform's ground-truth rows, in registry order (docs/sandbox-world.md, "Ground truth")."""
        return [dict(row) for row in self._truth]

    @cached_property
    def _truth(self) -> tuple[dict[str, Any], ...]:
        return tuple(row for facts in self.facts.values() for row in facts.ground_truth())

    def status_counts(self) -> dict[str, int]:
        """Rows per status, every status present (zero when absent), in the platforms' order."""
        counts = dict.fromkeys(self.statuses, 0)
        for row in self._truth:
            counts[row["status"]] += 1
        return counts

    def reason_counts(self) -> dict[tuple[str, str | None], int]:
        """Rows per (status, reason) pair present in the world."""
        counts: dict[tuple[str, str | None], int] = {}
        for row in self._truth:
            key = (row["status"], row["reason"])
            counts[key] = counts.get(key, 0) + 1
        return counts

    def contracts(self) -> dict[str, list[dict[str, Any]]]:
        """The tenants' contracts with the platforms (fee schedules, split rates) as control-table rows.

        Collected from every platform whose facts state contracts (`contract_rows()`); a row several
        platforms state (the checkout's split rates) appears once.
        """
        merged: dict[str, list[dict[str, Any]]] = {}
        for facts in self.facts.values():
            rows_of = getattr(facts, "contract_rows", None)
            if rows_of is None:
                continue
            for table, rows in rows_of().items():
                bucket = merged.setdefault(table, [])
                for row in rows:
                    if row not in bucket:
                        bucket.append(row)
        return merged

    def credentials(self, base_url: str) -> dict[str, Any]:
        """What a tenant would configure: each fake API's base URL, client credentials and resource ids."""
        root = base_url.rstrip("/")
        return {
            "base_urls": {name: f"{root}/{name}" for name in self.facts},
            "tenants": [
                {
                    "tenant_id": t.tenant_id,
                    **{name: facts.tenant_credentials(t) for name, facts in self.facts.items()},
                }
                for t in self.tenants
            ],
        }

    def digest(self) -> str:
        """SHA-256 over every generated fact, to check that a config really yields the same world."""
        h = hashlib.sha256()
        h.update(json.dumps(self.credentials(""), sort_keys=True).encode())
        for store in self.stores:
            h.update(repr(store).encode())
        for facts in self.facts.values():
            for part in facts.digest_parts():
                h.update(part.encode())
        for account_id in sorted(self.ledgers):
            ledger = self.ledgers[account_id]
            h.update(account_id.encode())
            h.update(b"".join(k.to_bytes(24, "big") for k in ledger.keys))
            for column in (ledger.amount, ledger.kind, ledger.party, ledger.created, ledger.balance):
                h.update(bytes(column))
        return h.hexdigest()


__all__ = ["World", "WorldConfig", "WorldKnobs"]
