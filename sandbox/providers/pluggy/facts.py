"""One world's Pluggy facts: the stores' items, with their lookups. The statements are the world's ledgers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sandbox.core.parties import Tenant
from sandbox.providers.pluggy import NAME
from sandbox.providers.pluggy.records import BankItem


class PluggyFacts:
    """Pluggy's part of a world (the `PlatformFacts` of sandbox.core.platform): no ground truth of its own."""

    statuses: tuple[str, ...] = ()
    reasons: tuple[tuple[str, str | None], ...] = ()
    truth_columns: tuple[str, ...] = ()

    def __init__(self, items: tuple[BankItem, ...]) -> None:
        self.items = items
        self.item_by_id = {i.item_id: i for i in items}
        self.item_by_account = {i.account_id: i for i in items}

    def ground_truth(self) -> list[dict[str, Any]]:
        return []

    def tenant_credentials(self, tenant: Tenant) -> dict[str, Any]:
        """The tenant's Pluggy client, and its items and accounts (one per store)."""
        credentials = tenant.credentials[NAME]
        items = [i for i in self.items if i.tenant_id == tenant.tenant_id]
        return {
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "item_ids": [i.item_id for i in items],
            "account_ids": [i.account_id for i in items],
        }

    def summary(self) -> dict[str, int]:
        return {}

    def digest_parts(self) -> Iterator[str]:
        for item in self.items:
            yield repr(item)
