"""Pluggy's record of a store: the item (the connection to the store's bank) holding its one account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sandbox.core.parties import BankAccount, Store
from sandbox.providers.pluggy.connectors import BankConnector


@dataclass(frozen=True, slots=True)
class BankItem:
    """One Pluggy item per store: its connector (the store's bank) and its one checking account."""

    item_id: str
    connector: BankConnector
    created_at: datetime  # when the tenant connected the bank (the item's and the account's createdAt)
    store: Store

    @property
    def account(self) -> BankAccount:
        return self.store.account

    @property
    def account_id(self) -> str:
        return self.store.account.account_id

    @property
    def tenant_id(self) -> str:
        return self.store.tenant_id
