"""The generic facts of a gateway in the sandbox: its payments, payouts, the credits it paid, its contract.

Each gateway's package generates its own story in its own terms (charges and balance
transactions, release dates, transfers, cash-ins) and its wire format from it; it also states the
story in these generic terms, which is all the ground truth (`sandbox.core.payments.truth`, from
docs/payment-reconciliation-rules.md) reads. The generic terms are the rules document's: a
payment's canonical status, gross, fee, withheld split parts, release date `R`, refund time and
payout; a payout's amount `A` and date `D`; the bank credits the gateway paid.

`GatewayFacts` is the `PlatformFacts` of a gateway (sandbox.core.platform): a gateway's facts
class extends it with what its fake API serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandbox.core.payments.checkout import CheckoutOrder

CANONICAL_STATUSES = ("pending", "paid", "failed", "expired", "refunded", "charged_back")
# the statuses of docs/payment-reconciliation-rules.md, in display order, and its (status, reason) rows
STATUSES = ("RECONCILED", "PENDING", "DISCREPANCY", "MANUAL_REVIEW")
REASONS: tuple[tuple[str, str | None], ...] = (
    ("RECONCILED", "nothing_due"),
    ("PENDING", "awaiting_payment"),
    ("DISCREPANCY", "chargeback"),
    ("DISCREPANCY", "refunded_after_payout"),
    ("RECONCILED", "refunded"),
    ("PENDING", "awaiting_release"),
    ("PENDING", "awaiting_payout"),
    ("DISCREPANCY", "not_paid_out"),
    ("RECONCILED", None),
    ("MANUAL_REVIEW", "ambiguous_credit"),
    ("MANUAL_REVIEW", "split_credit"),
    ("DISCREPANCY", "late_payout"),
    ("DISCREPANCY", "amount_mismatch"),
    ("DISCREPANCY", "payout_missing"),
)


@dataclass(frozen=True, slots=True)
class Tolerances:
    """The rules' tolerances at their defaults (dbt vars of the same names)."""

    value_tolerance: Decimal = Decimal("0.10")
    grace_days: int = 3
    fee_tolerance: Decimal = Decimal("0.01")
    split_tolerance: Decimal = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class FeeScheduleRow:
    """A row of the tenant's fee contract with a gateway (control.fee_schedules)."""

    tenant_id: str
    platform: str
    method: str  # pix | card | boleto
    installments_from: int
    installments_to: int
    percent_fee: Decimal  # percent of gross, e.g. Decimal("3.99")
    fixed_fee: Decimal  # reais per payment
    release_days: int | None  # business days from payment to release, where the gateway reports no date
    valid_from: date
    valid_to: date | None  # inclusive; None = open

    def covers(self, method: str, installments: int, day: date) -> bool:
        return (
            self.method == method
            and self.installments_from <= installments <= self.installments_to
            and self.valid_from <= day
            and (self.valid_to is None or day <= self.valid_to)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "platform": self.platform,
            "method": self.method,
            "installments_from": self.installments_from,
            "installments_to": self.installments_to,
            "percent_fee": str(self.percent_fee),
            "fixed_fee": str(self.fixed_fee),
            "release_days": self.release_days,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
        }


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """One payment as the rules see it (docs/payment-reconciliation-rules.md, "The canonical payment")."""

    platform: str
    tenant_id: str
    integration: str  # the gateway account it was paid into (one per store)
    bank_account_id: str  # the bank account that account pays out to
    payment_id: str
    order: CheckoutOrder
    installments: int  # the order's installment count (a gateway paying per installment: the plan's count on each)
    status: str  # canonical: one of CANONICAL_STATUSES
    gross: Decimal
    fee: Decimal  # the gateway's own fee as it reports it (one that reports none: the contracted fee)
    split_withheld: Decimal  # parts the gateway paid to others on the tenant's instruction
    paid_at: datetime | None
    expected_release: date | None  # R
    refunded_at: datetime | None
    payout_id: str | None
    # The sales platforms' extra readings (docs/payment-reconciliation-rules.md, "Sales platforms");
    # the gateways leave them at their defaults.
    subscription_id: str | None = None  # the subscription a renewal (or first charge) belongs to
    coproducer_commission: Decimal | None = None  # reported: Σ of the co-producers' commissions
    affiliate_commission: Decimal | None = None  # reported: the affiliate's commission
    stated_net: Decimal | None = None  # the producer's commission as the platform states it

    @property
    def net(self) -> Decimal:
        return self.gross - self.fee - self.split_withheld

    @property
    def method(self) -> str:
        return self.order.method


@dataclass(frozen=True, slots=True)
class PayoutFacts:
    """One transfer from the gateway to the bank: amount `A`, date `D`."""

    platform: str
    tenant_id: str
    integration: str
    bank_account_id: str
    payout_id: str
    amount: Decimal
    date: date


@dataclass(frozen=True, slots=True)
class CreditFacts:
    """A bank credit the gateway paid (posted in the world's ledger)."""

    platform: str
    bank_account_id: str
    transaction_id: str
    date: date
    amount: Decimal
