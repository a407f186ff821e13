"""Who is in the world: tenants (Conciliador's customers) and their stores, with no platform in them.

A tenant has credentials on every platform; a store is one of its businesses, with a trade name,
a legal name, a CNPJ and one bank account where every platform pays it. What a platform knows a
store by (a marketplace's merchant id, a bank aggregator's item id) is that platform's own record,
kept in its package and pointing back at the `Store`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sandbox.core.ids import digits_only, secret, uuid4


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """A tenant's application credentials on one platform (the fake API accepts only these)."""

    client_id: str
    client_secret: str


def new_client_credentials(rng: random.Random) -> ClientCredentials:
    """An application's client id (a UUID) and secret (40 letters and digits), drawn from `rng`."""
    return ClientCredentials(uuid4(rng), secret(rng))


@dataclass(frozen=True, slots=True)
class StoreIdentity:
    """A business as the outside world names it: what the platform that founds the stores draws."""

    name: str
    legal_name: str
    cnpj: str  # formatted NN.NNN.NNN/NNNN-NN


@dataclass(frozen=True, slots=True)
class BankAccount:
    """A store's business checking account: its statement is the ledger keyed by `account_id`."""

    account_id: str
    bank_name: str
    routing_number: str  # COMPE bank code
    branch_number: str
    account_number: str  # with its check digit: NNNNN-D
    opening_balance: Decimal


@dataclass(frozen=True, slots=True)
class Store:
    """A tenant's business: its names, its CNPJ and the bank account every platform pays into."""

    tenant_id: str
    name: str
    legal_name: str
    cnpj: str  # formatted NN.NNN.NNN/NNNN-NN
    account: BankAccount

    @property
    def cnpj_digits(self) -> str:
        return digits_only(self.cnpj)

    @property
    def account_id(self) -> str:
        return self.account.account_id


@dataclass(frozen=True, slots=True)
class Tenant:
    """A customer of Conciliador: its credentials per platform (by registry name) and its stores."""

    tenant_id: str
    credentials: Mapping[str, ClientCredentials]
    stores: tuple[Store, ...]


@dataclass(frozen=True, slots=True)
class Parties:
    """Every tenant and store of a world, in generation order (a store's index is its position here)."""

    tenants: tuple[Tenant, ...]
    stores: tuple[Store, ...]
