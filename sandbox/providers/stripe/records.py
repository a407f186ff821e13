"""What the sandbox's Stripe generated, in Stripe's own terms: accounts, charges (with their
payment intents, refunds and disputes), balance transactions and payouts.

Amounts are integer centavos (Stripe's minor units), times tz-aware UTC datetimes, and dates
(`available_on`, `arrival_date`) São Paulo calendar dates. The wire module renders them; the facts
module states them in the rules' generic terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sandbox.core.parties import Store
from sandbox.core.payments.checkout import CheckoutOrder


@dataclass(frozen=True, slots=True)
class StripeAccount:
    """One store's Stripe account: its key, its webhook secret and the bank account it pays out to."""

    account_id: str  # acct_…
    tenant_id: str
    store: Store
    name: str  # the store name as a slug: the integration's name
    secret_key: str  # sk_test_51…
    webhook_secret: str  # whsec_…
    application: str  # the tenant's checkout platform (Connect application ca_…), which takes the application fee
    bank_account: str  # ba_…: the payouts' destination
    created: datetime


@dataclass(frozen=True, slots=True)
class FeeDetail:
    amount: int
    type: str  # stripe_fee | application_fee
    description: str
    application: str | None = None


@dataclass(frozen=True, slots=True)
class BalanceTransaction:
    """A movement of an account's Stripe balance: `net` = `amount` − `fee`."""

    txn_id: str
    account_id: str
    type: str  # charge | refund | adjustment | payout
    reporting_category: str  # charge | refund | dispute | payout
    source: str  # the object that moved the money (ch_, re_, du_, po_)
    amount: int
    fee_details: tuple[FeeDetail, ...]
    created: datetime
    available_on: date
    description: str | None = None

    @property
    def fee(self) -> int:
        return sum(d.amount for d in self.fee_details)

    @property
    def net(self) -> int:
        return self.amount - self.fee

    def fee_of(self, kind: str) -> int:
        return sum(d.amount for d in self.fee_details if d.type == kind)


@dataclass(frozen=True, slots=True)
class Refund:
    refund_id: str
    charge_id: str
    amount: int
    created: datetime
    txn_id: str
    reason: str = "requested_by_customer"


@dataclass(frozen=True, slots=True)
class Dispute:
    dispute_id: str
    charge_id: str
    amount: int
    created: datetime
    status: str  # needs_response | under_review | lost (never won: the rules call it charged back)
    reason: str
    txn_id: str
    closed_at: datetime | None  # when it was lost


@dataclass(frozen=True, slots=True)
class Charge:
    """One payment attempt for one checkout order, and what happened to it afterwards."""

    charge_id: str
    intent_id: str
    method_id: str  # pm_…
    account_id: str
    order: CheckoutOrder
    status: str  # succeeded | pending | failed
    created: datetime
    amount: int
    application_fee_amount: int
    application_fee_id: str | None  # fee_… once the application fee was collected
    txn_id: str | None  # the charge's balance transaction (succeeded charges)
    card_brand: str | None
    card_last4: str | None
    pix_transaction_id: str | None
    failure_code: str | None = None
    failure_message: str | None = None
    refund: Refund | None = None
    dispute: Dispute | None = None
    held: bool = False  # released but kept out of every payout

    @property
    def method(self) -> str:
        return self.order.method

    @property
    def installments(self) -> int:
        return self.order.installments


@dataclass(frozen=True, slots=True)
class Payout:
    """An automatic payout: every balance transaction available by `arrival` and not yet paid out."""

    payout_id: str
    account_id: str
    created: datetime
    arrival: date
    amount: int
    txn_id: str  # its own `payout` balance transaction
    paid_txns: tuple[str, ...]  # the balance transactions it paid out
