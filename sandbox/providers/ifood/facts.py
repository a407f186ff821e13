"""One world's iFood facts: merchants, orders, financial events and payout batches, with their lookups.

What the fake iFood API serves and what iFood's ground truth is computed from; `World.facts["ifood"]`
is this object. Built once by `IfoodGenerator.finish`, then only read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from functools import cached_property
from typing import Any

from sandbox.core.bank import BankLedger
from sandbox.core.parties import Tenant
from sandbox.providers.ifood import NAME
from sandbox.providers.ifood.knobs import IfoodKnobs
from sandbox.providers.ifood.records import FinancialEvent, Merchant, Order, PayoutBatch
from sandbox.providers.ifood.rules import RULES, STATUSES
from sandbox.providers.ifood.truth import ground_truth


class IfoodFacts:
    """iFood's part of a world (the `PlatformFacts` of sandbox.core.platform).

    Attributes: `config`, `as_of`, `merchants` (one per store, in store order), `orders` (by
    merchant, then creation time; each with its `events`), `batches` (payout batches with their
    credit facts), and lookups `merchant_by_id`, `orders_by_merchant` (every order, orphans
    included), `sales_by_merchant` (what the Sales API returns), `events_by_merchant` (by time).
    """

    statuses = STATUSES
    reasons = RULES
    truth_columns = ("tenant_id", "merchant_id", "order_id", "status", "reason")

    def __init__(
        self,
        config: IfoodKnobs,
        merchants: tuple[Merchant, ...],
        orders: tuple[Order, ...],
        batches: tuple[PayoutBatch, ...],
        ledgers: Mapping[str, BankLedger],
    ) -> None:
        self.config = config
        self.as_of: date = config.as_of
        self.merchants = merchants
        self.orders = orders
        self.batches = batches
        self._ledgers = ledgers
        self.merchant_by_id = {m.merchant_id: m for m in merchants}
        self.orders_by_merchant: dict[str, list[Order]] = {m.merchant_id: [] for m in merchants}
        self.sales_by_merchant: dict[str, list[Order]] = {m.merchant_id: [] for m in merchants}
        self.events_by_merchant: dict[str, list[FinancialEvent]] = {m.merchant_id: [] for m in merchants}
        for order in orders:
            self.orders_by_merchant[order.merchant_id].append(order)
            if order.has_sale:
                self.sales_by_merchant[order.merchant_id].append(order)
            self.events_by_merchant[order.merchant_id].extend(order.events)
        for events in self.events_by_merchant.values():
            events.sort(key=lambda e: e.date_time)  # stable: an order's events keep their booking order

    def financial_events(self) -> Iterator[FinancialEvent]:
        for order in self.orders:
            yield from order.events

    def ground_truth(self) -> list[dict[str, Any]]:
        """One row per order: tenant_id, merchant_id, order_id, status, reason (docs/sandbox-world.md rules)."""
        return [dict(row) for row in self._truth]

    @cached_property
    def _truth(self) -> tuple[dict[str, Any], ...]:
        return tuple(ground_truth(self.orders, self.batches, self.merchants, self._ledgers, self.as_of))

    def tenant_credentials(self, tenant: Tenant) -> dict[str, Any]:
        """The tenant's iFood application and the merchants it may read."""
        credentials = tenant.credentials[NAME]
        return {
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "merchant_ids": [m.merchant_id for m in self.merchants if m.tenant_id == tenant.tenant_id],
        }

    def summary(self) -> dict[str, int]:
        return {"orders": len(self.orders), "payout_batches": len(self.batches)}

    def digest_parts(self) -> Iterator[str]:
        for merchant in self.merchants:
            yield repr(merchant)
        for order in self.orders:
            yield repr(order)
        for batch in self.batches:
            yield repr(batch)
