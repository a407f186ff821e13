"""One world's Mercado Pago facts: accounts, payments as MP serves them, and the rules' generic facts.

`World.facts["mercadopago"]` is a `MercadoPagoFacts`: the `GatewayFacts` of the rules
(docs/payment-reconciliation-rules.md: payments, payouts, the bank credits, the tenants' fee and
split contracts) plus what the fake API serves (`accounts`, `mp_payments`) and its lookups. The
generic facts are read from the same records the wire renders, the way the rules' Mercado Pago
column reads the wire:

- canonical status: `approved` → paid, `refunded`, `charged_back`, `pending`/`in_process` →
  pending, `cancelled` → expired, `rejected` → failed;
- gross `transaction_amount`; fee the `mercadopago_fee` of `fee_details`; split withheld the
  `application_fee` of `fee_details`; paid at `date_approved`; `R` the São Paulo date of
  `money_release_date`; refunded at the latest `refunds[].date_created`;
- payout: the account's withdrawal of `R` (`mercadopago:<account>:<R>`) for payments released
  before `as_of` and not refunded before their release; `A` = Σ net released on `R` − refunds dated
  `R` of payments released before it, `D` = `R`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.core.ids import digits_only
from sandbox.core.parties import Tenant
from sandbox.core.payments.checkout import SplitRate
from sandbox.core.payments.facts import CreditFacts, FeeScheduleRow, PaymentFacts, PayoutFacts
from sandbox.core.payments.gateway import GatewayFacts, account_credentials
from sandbox.providers.mercadopago import NAME
from sandbox.providers.mercadopago.knobs import MercadoPagoKnobs
from sandbox.providers.mercadopago.records import Account, Application, Payment
from sandbox.providers.mercadopago.story import AccountStory, Payout, payout_id

CANONICAL = {
    "approved": "paid",
    "refunded": "refunded",
    "charged_back": "charged_back",
    "pending": "pending",
    "in_process": "pending",
    "authorized": "pending",
    "cancelled": "expired",
    "rejected": "failed",
}


def payment_facts(payment: Payment, account: Account) -> PaymentFacts:
    """The payment in the rules' terms, read from what the wire shows."""
    release = payment.release_date if payment.took_money else None
    refunded_at = max((r.created_at for r in payment.refunds), default=None)
    return PaymentFacts(
        platform=NAME,
        tenant_id=account.tenant_id,
        integration=account.name,
        bank_account_id=account.store.account_id,
        payment_id=str(payment.payment_id),
        order=payment.order,
        installments=payment.installments,
        status=CANONICAL[payment.status],
        gross=payment.gross,
        fee=payment.mp_fee if payment.took_money else Decimal("0.00"),
        split_withheld=payment.application_fee if payment.took_money else Decimal("0.00"),
        paid_at=payment.approved_at,
        expected_release=release,
        refunded_at=refunded_at,
        payout_id=payout_id(account.name, release) if release is not None and payment.released else None,
    )


def payout_facts(payout: Payout) -> PayoutFacts:
    account = payout.account
    return PayoutFacts(
        NAME, account.tenant_id, account.name, account.store.account_id, payout.payout_id, payout.amount, payout.day
    )


@dataclass
class MercadoPagoFacts(GatewayFacts):
    """Mercado Pago's part of a world (`PlatformFacts`): the generic gateway facts plus what its API serves.

    `accounts` (one per store, in store order), `mp_payments` (by account, then creation time),
    `applications` (per tenant), and lookups `account_by_name`, `account_by_token`,
    `payments_by_account`, `payment_by_id`.
    """

    accounts: tuple[Account, ...] = ()
    mp_payments: tuple[Payment, ...] = ()
    applications: Mapping[str, Application] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.account_by_name = {a.name: a for a in self.accounts}
        self.account_by_token = {a.access_token: a for a in self.accounts}
        self.payments_by_account: dict[str, list[Payment]] = {a.name: [] for a in self.accounts}
        for p in self.mp_payments:
            self.payments_by_account[p.account].append(p)
        self.payment_by_id = {p.payment_id: p for p in self.mp_payments}

    @classmethod
    def build(
        cls,
        knobs: MercadoPagoKnobs,
        applications: Mapping[str, Application],
        stories: Sequence[AccountStory],
        fee_rows: Sequence[FeeScheduleRow],
        split_rates: Sequence[SplitRate],
        credits: Sequence[CreditFacts],
    ) -> MercadoPagoFacts:
        payments = tuple(p for s in stories for p in s.payments)
        return cls(
            platform=NAME,
            as_of=knobs.as_of,
            payments=tuple(payment_facts(p, s.account) for s in stories for p in s.payments),
            payouts=tuple(payout_facts(x) for s in stories for x in s.payouts),
            credits=tuple(credits),
            fee_schedules=tuple(fee_rows),
            split_rates=tuple(split_rates),
            accounts=tuple(s.account for s in stories),
            mp_payments=payments,
            applications=dict(applications),
        )

    def tenant_credentials(self, tenant: Tenant) -> dict[str, Any]:
        """One entry per store account: what the demo registers as one integration each."""
        return {
            "accounts": [
                account_credentials(
                    a.name, a.store, a.webhook_secret, digits_only(a.store.cnpj), access_token=a.access_token
                )
                for a in self.accounts
                if a.tenant_id == tenant.tenant_id
            ]
        }

    def summary(self) -> dict[str, int]:
        return {f"{NAME}_payments": len(self.payments), f"{NAME}_payouts": len(self.payouts)}

    def digest_parts(self) -> Iterator[str]:
        for application in sorted(self.applications.items()):
            yield repr(application)
        for account in self.accounts:
            yield repr(account)
        for payment in self.mp_payments:
            yield repr(payment)
        yield from self.generic_digest_parts()
        for credit in self.credits:
            yield repr(credit)
