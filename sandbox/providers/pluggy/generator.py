"""Pluggy's part in building a world: sign tenants up, open every store's account (Pluggy is the bank).

`sandbox.world.World` calls `sign_up` per tenant and `open_account` per store (the registry names
Pluggy the bank), both drawing from the shared parties stream in the order the first worlds were
generated in; `plan` then builds the items (Pluggy pays no credits) and `finish` returns the facts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sandbox.core.bank import PlannedCredit
from sandbox.core.ids import uuid4
from sandbox.core.knobs import WorldKnobs
from sandbox.core.money import from_cents
from sandbox.core.parties import BankAccount, ClientCredentials, Parties, new_client_credentials
from sandbox.core.platform import PostedBank
from sandbox.providers.pluggy.connectors import BANK_CONNECTORS, BankConnector
from sandbox.providers.pluggy.facts import PluggyFacts
from sandbox.providers.pluggy.records import BankItem


class PluggyGenerator:
    """Generates one world's Pluggy facts (the `PlatformGenerator` and `BankOpener` of sandbox.core.platform)."""

    def __init__(self, config: WorldKnobs) -> None:
        self.config = config
        self._opened: list[tuple[str, BankConnector, datetime]] = []  # per store: item id, connector, created at
        self._items: tuple[BankItem, ...] = ()

    def sign_up(self, tenant_id: str, rng: random.Random) -> ClientCredentials:
        """The tenant's Pluggy client, drawn from the shared parties stream."""
        return new_client_credentials(rng)

    def open_account(self, position: int, rng: random.Random) -> BankAccount:
        """The store's checking account at its bank (round-robin over the connectors) and its Pluggy item."""
        item_id = uuid4(rng)
        account_id = uuid4(rng)
        connector = BANK_CONNECTORS[position % len(BANK_CONNECTORS)]
        branch_number = f"{rng.randrange(1, 9999):04d}"
        account_number = f"{rng.randrange(10_000, 99_999)}-{rng.randrange(10)}"
        opening_balance = from_cents(rng.randrange(500_000, 6_000_000))
        connected = self.config.start - timedelta(days=rng.randrange(30, 400))
        created_at = datetime.combine(connected, time(12, rng.randrange(60)), UTC)
        self._opened.append((item_id, connector, created_at))
        return BankAccount(
            account_id=account_id,
            bank_name=connector.name,
            routing_number=connector.routing_number,
            branch_number=branch_number,
            account_number=account_number,
            opening_balance=opening_balance,
        )

    def plan(self, parties: Parties) -> Sequence[PlannedCredit]:
        """The items of the accounts opened; Pluggy pays nobody, so no credits."""
        if len(parties.stores) != len(self._opened):
            raise RuntimeError("Pluggy is the bank: open_account must run once per store")
        self._items = tuple(
            BankItem(item_id, connector, created_at, store)
            for store, (item_id, connector, created_at) in zip(parties.stores, self._opened, strict=True)
        )
        return ()

    def finish(self, bank: PostedBank) -> PluggyFacts:
        return PluggyFacts(self._items)
