"""The facts of iFood's world, one record type each: merchants, orders, financial events, payout batches.

A `Merchant` is iFood's record of a store (its merchant id, short id, commission plan and
anticipation fee) pointing at the platform-neutral `Store`; an `Order` carries its financial
events; a `PayoutBatch` groups every event of one merchant with one expected date and says which
bank credits paid it. All frozen: generation builds them once, the fake API and the ground truth
only read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from sandbox.core.calendar import SAO_PAULO, add_business_days
from sandbox.core.parties import BankAccount, Store
from sandbox.providers.ifood.rules import GRACE_DAYS

OrderKind = Literal["regular", "sales_only", "cancelled", "refunded", "orphan"]
Fate = Literal[
    "very_late",
    "on_time",
    "within_tolerance",
    "slightly_late",
    "wrong_amount",
    "late",
    "never_paid",
    "anticipated",
    "partial",
    "partial_late",
    "partial_pending",
]


@dataclass(frozen=True, slots=True)
class Merchant:
    """iFood's record of a store: the merchant the financial API serves, paid into the store's account."""

    tenant_id: str
    merchant_id: str
    short_id: str
    commission_rate: Decimal
    anticipation_fee_rate: Decimal  # iFood's fee when the store anticipates a payout (fraction, 4 places)
    store: Store

    @property
    def name(self) -> str:
        return self.store.name

    @property
    def legal_name(self) -> str:
        return self.store.legal_name

    @property
    def cnpj(self) -> str:
        return self.store.cnpj

    @property
    def cnpj_digits(self) -> str:
        return self.store.cnpj_digits

    @property
    def account(self) -> BankAccount:
        return self.store.account

    @property
    def account_id(self) -> str:
        return self.store.account.account_id


@dataclass(frozen=True, slots=True)
class FinancialEvent:
    """One entry of iFood's financial ledger for an order (amount signed, merchant's point of view)."""

    merchant_id: str
    order_id: str
    name: str
    description: str
    trigger: str
    date_time: datetime  # UTC
    amount: Decimal
    base_value: Decimal | None
    fee_percentage: Decimal | None
    business_date: date
    expected_date: date
    payment_method: str
    card_brand: str | None

    @property
    def local_date(self) -> date:
        return self.date_time.astimezone(SAO_PAULO).date()


@dataclass(frozen=True, slots=True)
class StatusChange:
    """An entry of a sale's `orderStatusHistory` / `orderEvents`."""

    full_code: str
    code: str
    at: datetime  # UTC
    event_id: str


@dataclass(frozen=True, slots=True)
class Order:
    """An iFood sale, with its financial events (none for a sales-only order)."""

    tenant_id: str
    merchant_id: str
    order_id: str
    short_id: str
    business_date: date
    created_at: datetime  # UTC
    bag: Decimal
    delivery_fee: Decimal
    service_fee: Decimal
    benefit: Decimal  # iFood-sponsored discount; the customer paid gross - benefit, iFood subsidises it
    payment_method: str
    card_brand: str | None
    kind: OrderKind
    expected_date: date  # of its non-cancellation events (what it would have been for a sales-only order)
    history: tuple[StatusChange, ...]
    events: tuple[FinancialEvent, ...]

    @property
    def has_sale(self) -> bool:
        """Whether the Sales API returns it (an orphan order has financial events only)."""
        return self.kind != "orphan"

    @property
    def gross(self) -> Decimal:
        return self.bag + self.delivery_fee + self.service_fee

    @property
    def paid_by_customer(self) -> Decimal:
        return self.gross - self.benefit

    @property
    def net(self) -> Decimal:
        """Expected net: the sum of the order's event values (0 for a cancelled order)."""
        return sum((e.amount for e in self.events), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class Credit:
    """A bank credit (TED from iFood) paying (part of) a batch; in the statement iff dated before `as_of`."""

    date: date
    amount: Decimal
    transaction_id: str | None  # the bank transaction, when visible


@dataclass(frozen=True, slots=True)
class Anticipation:
    """The store anticipated the batch: one credit of `original_amount - fee` before the expected date."""

    fee_rate: Decimal
    fee: Decimal
    original_amount: Decimal
    amount: Decimal
    date: date


@dataclass(frozen=True, slots=True)
class PayoutBatch:
    """Every event of one store with one expected date (`E`), and the credits that pay it.

    `total` (`T`) sums those events: the orders whose `E` it is, plus reversals of earlier orders
    deducted from it. `first_sale_date`/`last_sale_date` bound the events' business days (the
    settlement's calculation period). `fate` is how the generator decided to pay it; `credits`
    are the resulting facts in payment order (none when iFood never pays; two for a partial
    payment; credits dated on/after `as_of` are planned but not in the bank yet);
    `anticipation` is set when the store anticipated it (its one credit is the anticipation's).
    `settlement_listed` is False when iFood's settlements API does not list the batch (no closing
    item at all, though its report lines still name its `id_saldo`): only the bank shows it paid.
    """

    tenant_id: str
    merchant_id: str
    account_id: str
    expected_date: date
    first_sale_date: date
    last_sale_date: date
    order_ids: tuple[str, ...]
    total: Decimal
    fate: Fate
    credits: tuple[Credit, ...]
    anticipation: Anticipation | None
    settlement_listed: bool = True

    @property
    def deadline(self) -> date:
        return add_business_days(self.expected_date, GRACE_DAYS)

    def visible_credits(self, as_of: date) -> tuple[Credit, ...]:
        return tuple(c for c in self.credits if c.date < as_of)
