"""What Kiwify knows of a world: the producers' accounts, their sales (orders) and payouts.

A sale's life is a few timestamped statuses (`status_changes`); `status_at(moment)` is what Kiwify
would answer then. Money is integer centavos on Kiwify's wire; here `Decimal` reais until rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sandbox.core.parties import Store
from sandbox.core.payments.sales import Sale

PAYMENT_METHODS = {"card": "credit_card", "pix": "pix", "boleto": "boleto"}


@dataclass(frozen=True, slots=True)
class KiwifyAccount:
    """One store's producer account at Kiwify and the API key issued to it."""

    tenant_id: str
    store: Store
    name: str  # the integration's name: the store name as a slug (unique in the world)
    client_id: str  # UUID
    client_secret: str  # 64 hex
    account_id: str  # sent as `x-kiwify-account-id`
    webhook_secret: str  # the webhook's token (HMAC-SHA1 key of `?signature=`)
    legal_entity_id: str  # UUID of the store's legal entity (payouts name it)


@dataclass(frozen=True, slots=True)
class Partner:
    """A revenue partner (co-producer), an affiliate or a customer, as Kiwify names them."""

    id: str
    name: str
    document: str  # digits
    email: str


@dataclass(frozen=True)
class KiwifySale:
    """One sale: the story's sale plus Kiwify's names for it."""

    sale: Sale
    id: str  # UUID: the order id
    reference: str  # 7 letters and digits
    product_id: str  # UUID
    product_name: str
    parent_id: str | None  # the main order of an order bump (`parent_order_id`)
    customer: Partner
    affiliate: Partner | None
    coproducer: Partner | None
    subscription_id: str | None  # UUID, stable over the subscription's renewals
    plan_id: str | None
    plan_name: str | None
    refund_requested_hours: int  # how long before the refund its request came

    @property
    def account(self) -> str:
        return self.sale.account

    @property
    def refund_requested_at(self) -> datetime | None:
        s = self.sale
        if s.refunded_at is None or s.paid_at is None:
            return None
        return max(s.paid_at + timedelta(minutes=5), s.refunded_at - timedelta(hours=self.refund_requested_hours))

    def status_changes(self) -> list[tuple[datetime, str]]:
        s = self.sale
        steps = [(s.created_at, "waiting_payment")]
        if s.failed_at is not None:
            steps.append((s.failed_at, "refused"))
            return steps
        if s.paid_at is None:
            if s.lapses_at is not None:
                steps.append((s.lapses_at, "refused"))  # Kiwify lets an unpaid PIX/boleto lapse as refused
            return steps
        steps.append((s.paid_at, "paid"))
        if s.refunded_at is not None:
            steps.append((self.refund_requested_at, "refund_requested"))  # type: ignore[arg-type]
            steps.append((s.refunded_at, "refunded"))
        if s.charged_back_at is not None:
            steps.append((s.charged_back_at, "chargedback"))
        return steps

    def status_at(self, moment: datetime) -> str | None:
        known = [status for at, status in self.status_changes() if at < moment]
        return known[-1] if known else None

    def updated_at(self, moment: datetime) -> datetime:
        known = [at for at, _ in self.status_changes() if at < moment]
        return known[-1] if known else self.sale.created_at


@dataclass(frozen=True, slots=True)
class KiwifyPayout:
    """One day's payout of an account (`GET /v1/payouts`): its amount in centavos and when Kiwify made it."""

    id: str
    account: str
    legal_entity_id: str
    day: date
    amount: Decimal
    created_at: datetime
