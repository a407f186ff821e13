"""What Hotmart knows of a world: the producers' accounts, their products and their sales (purchases).

A sale's life is a few timestamped statuses (`status_changes`); `status_at(moment)` is what Hotmart
would answer for it then, which is all the fake API and the webhooks render. Money is `Decimal`
reais: Hotmart's wire writes JSON numbers with two decimals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sandbox.core.parties import Store
from sandbox.core.payments.sales import Sale

# a purchase status → the webhook event Hotmart sends when a purchase takes it (reference §6.2)
EVENTS = {
    "APPROVED": "PURCHASE_APPROVED",
    "COMPLETE": "PURCHASE_COMPLETE",
    "CANCELLED": "PURCHASE_CANCELED",
    "OVERDUE": "PURCHASE_DELAYED",
    "EXPIRED": "PURCHASE_EXPIRED",
    "REFUNDED": "PURCHASE_REFUNDED",
    "PROTESTED": "PURCHASE_PROTEST",
    "CHARGEBACK": "PURCHASE_CHARGEBACK",
}
PAYMENT_TYPES = {"card": "CREDIT_CARD", "pix": "PIX", "boleto": "BILLET"}


@dataclass(frozen=True, slots=True)
class HotmartAccount:
    """One store's producer account at Hotmart and the API credential issued to it."""

    tenant_id: str
    store: Store
    name: str  # the integration's name: the store name as a slug (unique in the world)
    client_id: str
    client_secret: str
    basic: str  # base64(client_id:client_secret), as Hotmart shows it with the credential
    hottok: str  # the account's webhook token (X-HOTMART-HOTTOK)
    ucode: str  # the producer's user code


@dataclass(frozen=True, slots=True)
class HotmartProduct:
    """A catalogue product (or subscription plan) as Hotmart numbers it."""

    id: int
    ucode: str
    name: str
    catalogue_id: str
    plan_id: int | None = None  # a subscription plan's id (subscription products only)
    plan_name: str | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """A co-producer, an affiliate or a buyer, as Hotmart names them."""

    ucode: str
    name: str
    email: str
    code: str = ""  # an affiliate's affiliate_code


@dataclass(frozen=True)
class HotmartSale:
    """One purchase: the story's sale plus Hotmart's names for it."""

    sale: Sale
    transaction: str  # HP + digits
    product: HotmartProduct
    parent_transaction: str | None  # the main purchase of an order bump
    buyer: Party
    affiliate: Party | None
    coproducer: Party | None
    subscriber_code: str | None
    offer_code: str
    event_ids: tuple[str, ...]  # one uuid per status change (webhook envelope ids), in order

    @property
    def account(self) -> str:
        return self.sale.account

    def status_changes(self) -> list[tuple[datetime, str]]:
        """Every status the purchase took, in order, with when (the first one at its creation)."""
        s = self.sale
        first = {"card": "PROCESSING_TRANSACTION", "pix": "WAITING_PAYMENT", "boleto": "PRINTED_BILLET"}[s.method]
        steps = [(s.created_at, first)]
        if s.failed_at is not None:
            steps.append((s.failed_at, "OVERDUE" if s.renewal_failed else "CANCELLED"))
            return steps
        if s.paid_at is None:
            if s.lapses_at is not None:
                steps.append((s.lapses_at, "EXPIRED"))
            return steps
        steps.append((s.paid_at, "APPROVED"))
        undone = s.undone_at
        if s.warranty_until is not None and (undone is None or s.warranty_until < undone):
            steps.append((s.warranty_until, "COMPLETE"))
        if s.protested_at is not None:
            steps.append((s.protested_at, "PROTESTED"))
        if s.charged_back_at is not None:
            steps.append((s.charged_back_at, "CHARGEBACK"))
        if s.refunded_at is not None:
            steps.append((s.refunded_at, "REFUNDED"))
        return sorted(steps, key=lambda step: step[0])

    def status_at(self, moment: datetime) -> str | None:
        """The purchase's status as Hotmart answers at `moment` (None before it exists)."""
        known = [status for at, status in self.status_changes() if at < moment]
        return known[-1] if known else None
