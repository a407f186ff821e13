"""What the sandbox's Asaas generated: accounts, payments with their timelines, statement items, transfers.

A payment is stored once with the moments its life changed (created, confirmed, credited,
refunded, charged back, overdue, deleted); its wire form at any moment (`wire.payment_at`) is
derived from them, so the API (at the world's as-of) and the webhooks (at each event) render the
same facts. Datetimes are tz-aware; dates are São Paulo business dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sandbox.core.parties import Store
from sandbox.core.payments.checkout import CheckoutOrder


@dataclass(frozen=True, slots=True)
class AsaasAccount:
    """A store's Asaas account: the API key and webhook token the tenant configures, where it transfers to."""

    tenant_id: str
    store: Store
    name: str  # slug of the store's name: the integration's name
    api_key: str  # $aact_hmlg_…
    webhook_secret: str  # the webhook's authentication token (asaas-access-token)
    wallet_id: str
    operation_type: str  # how its daily transfer travels: PIX or TED

    @property
    def account_id(self) -> str:
        return self.store.account_id


@dataclass(frozen=True, slots=True)
class Split:
    """The split Asaas executes on a payment: the affiliate's commission to its wallet."""

    split_id: str
    wallet_id: str
    fixed_value: Decimal  # = totalValue (no percentual part)


@dataclass(frozen=True, slots=True)
class AsaasPayment:
    """One Asaas payment (a charge; a card order in N installments is N of them sharing `installment_id`)."""

    payment_id: str  # pay_…
    account: str  # AsaasAccount.name
    order: CheckoutOrder
    product_name: str
    customer_id: str  # cus_…
    installment_id: str | None  # shared by the payments of one installment plan (None: paid at once)
    installment_number: int | None
    installment_count: int
    invoice_number: str
    value: Decimal
    fee: Decimal  # Asaas's fee on this payment (netValue = value − fee)
    split: Split | None
    due_date: date
    card_brand: str | None
    card_last4: str | None
    nosso_numero: str | None
    # the timeline (None: never happened in this world)
    created_at: datetime
    confirmed_at: datetime | None  # paid (card confirmed, PIX paid, boleto paid)
    estimated_credit_date: date | None  # known from confirmation on
    credited_at: datetime | None  # the money entered the balance (creditDate)
    refunded_at: datetime | None
    chargeback_at: datetime | None
    overdue_at: datetime | None
    deleted_at: datetime | None

    @property
    def net_value(self) -> Decimal:
        return self.value - self.fee

    @property
    def method(self) -> str:
        return self.order.method

    @property
    def external_reference(self) -> str:
        o = self.order
        parts = [o.order_id, o.product_id] + ([o.affiliate_id] if o.affiliate_id else [])
        return ":".join(parts)


@dataclass(frozen=True, slots=True)
class StatementItem:
    """One line of an account's financial statement (`GET /v3/financialTransactions`)."""

    item_id: str  # ft_…
    account: str
    at: datetime  # when it happened (the statement orders by it; `date` is its São Paulo date)
    kind: str  # PAYMENT_RECEIVED, PAYMENT_FEE, INTERNAL_TRANSFER_DEBIT, PAYMENT_REVERSAL, …, TRANSFER
    value: Decimal  # signed
    balance: Decimal  # after the item
    description: str
    payment_id: str | None = None
    transfer_id: str | None = None
    split_id: str | None = None  # the split a split debit or its reversal moves (`splitId`)


@dataclass(frozen=True, slots=True)
class AsaasTransfer:
    """The end-of-day sweep of an account's balance to the store's bank account (`GET /v3/transfers`)."""

    transfer_id: str
    account: str
    created_at: datetime
    value: Decimal
    fee: Decimal  # transferFee; netValue = value − fee reaches the bank
    operation_type: str  # PIX | TED
    schedule_date: date
    effective_date: date  # when it is (or will be) done
    end_to_end_id: str | None  # PIX only

    @property
    def net_value(self) -> Decimal:
        return self.value - self.fee
