"""iFood's part in building a world: sign tenants up, found the stores, generate orders and payouts.

`sandbox.world.World` calls, in this order: `sign_up` for every tenant, `found_store` for every
store (iFood is the platform the registry says founds the stores: they are its merchants), `plan`
once the parties exist (orders, batches and their fates; returns the bank credits iFood pays, each
naming `IFOOD_PAYER`), and `finish` once the bank has posted those credits (the payout batches
learn their bank transactions). The draws come from the seed's labelled streams exactly as
before the sandbox was split into platforms, so a seed gives the same world.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sandbox.core.bank import PlannedCredit
from sandbox.core.parties import ClientCredentials, Parties, StoreIdentity, new_client_credentials
from sandbox.core.platform import PostedBank
from sandbox.core.streams import stream
from sandbox.providers.ifood.facts import IfoodFacts
from sandbox.providers.ifood.knobs import IfoodKnobs
from sandbox.providers.ifood.merchants import MerchantTerms, draw_store
from sandbox.providers.ifood.orders import OrderBook
from sandbox.providers.ifood.payouts import PayoutPlans
from sandbox.providers.ifood.records import Merchant, Order


class IfoodGenerator:
    """Generates one world's iFood facts (the `PlatformGenerator` and `StoreFounder` of sandbox.core.platform)."""

    def __init__(self, config: IfoodKnobs) -> None:
        self.config = config
        self._fees = stream(config.seed, "anticipation-fees")  # its own stream: the parties stay as they were
        self._terms: list[MerchantTerms] = []
        self._merchants: tuple[Merchant, ...] = ()
        self._orders: tuple[Order, ...] = ()
        self._payouts: PayoutPlans | None = None

    def sign_up(self, tenant_id: str, rng: random.Random) -> ClientCredentials:
        """The tenant's iFood application, drawn from the shared parties stream."""
        return new_client_credentials(rng)

    def found_store(self, tenant_index: int, store_index: int, rng: random.Random) -> StoreIdentity:
        """A new store's names and CNPJ; iFood's terms for it (merchant id, …) are kept for `plan`."""
        identity, terms = draw_store(rng, self._fees, tenant_index, store_index)
        self._terms.append(terms)
        return identity

    def plan(self, parties: Parties) -> Sequence[PlannedCredit]:
        """Orders and payout batches for every store; the credits iFood pays into the stores' accounts."""
        if len(parties.stores) != len(self._terms):
            raise RuntimeError("iFood founds every store of the world: found_store must run once per store")
        self._merchants = tuple(
            Merchant(store.tenant_id, t.merchant_id, t.short_id, t.commission_rate, t.anticipation_fee_rate, store)
            for store, t in zip(parties.stores, self._terms, strict=True)
        )
        self._orders = OrderBook(self.config).orders(self._merchants)
        self._payouts = PayoutPlans(self.config, self._merchants, self._orders)
        return self._payouts.planned_credits()

    def finish(self, bank: PostedBank) -> IfoodFacts:
        """The facts, the payout batches knowing the bank transaction of each posted credit."""
        if self._payouts is None:
            raise RuntimeError("plan must run before finish")
        batches = self._payouts.batches(bank.posted)
        return IfoodFacts(self.config, self._merchants, self._orders, batches, bank.ledgers)
