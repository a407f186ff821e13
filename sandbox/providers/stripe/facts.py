"""One world's Stripe facts: the wire-level objects its API serves, and the generic facts of the rules.

`StripeFacts` is a `GatewayFacts` (sandbox.core.payments.facts): `payments` and `payouts` state the
story in the terms of docs/payment-reconciliation-rules.md, read the way the rules read Stripe's
wire (a charge's `fee` is its balance transaction's `stripe_fee` part, `split_withheld` its
`application_fee` part, `R` its `available_on`, its payout the one whose `?payout=` listing holds
that transaction; a payout's `A` is its `amount`, `D` its `arrival_date`). The rest is what the
fake API and the webhooks render: accounts, charges (with their intents, refunds, disputes),
balance transactions and Stripe's payout objects, all as of `now` (noon São Paulo on the as-of day).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sandbox.core.parties import Tenant
from sandbox.core.payments.gateway import GatewayFacts, account_credentials
from sandbox.providers.stripe.records import BalanceTransaction, Charge, Payout, StripeAccount


@dataclass
class StripeFacts(GatewayFacts):
    """Stripe's part of a world (the `PlatformFacts` of sandbox.core.platform)."""

    now: datetime | None = None  # the world's clock: nothing is created after it
    accounts: tuple[StripeAccount, ...] = ()
    charges: tuple[Charge, ...] = ()
    stripe_payouts: tuple[Payout, ...] = ()
    balance_transactions: tuple[BalanceTransaction, ...] = field(default=())

    @cached_property
    def account_by_id(self) -> dict[str, StripeAccount]:
        return {a.account_id: a for a in self.accounts}

    @cached_property
    def account_by_key(self) -> dict[str, StripeAccount]:
        return {a.secret_key: a for a in self.accounts}

    @cached_property
    def account_by_name(self) -> dict[str, StripeAccount]:
        return {a.name: a for a in self.accounts}

    @cached_property
    def charge_by_id(self) -> dict[str, Charge]:
        return {c.charge_id: c for c in self.charges}

    @cached_property
    def txn_by_id(self) -> dict[str, BalanceTransaction]:
        return {t.txn_id: t for t in self.balance_transactions}

    @cached_property
    def payout_by_id(self) -> dict[str, Payout]:
        return {p.payout_id: p for p in self.stripe_payouts}

    @cached_property
    def payout_of_txn(self) -> dict[str, str]:
        """Balance transaction id → the payout that paid it out (its own `payout` transaction included)."""
        found = {t: p.payout_id for p in self.stripe_payouts for t in p.paid_txns}
        found.update({p.txn_id: p.payout_id for p in self.stripe_payouts})
        return found

    def accounts_of(self, tenant: Tenant) -> list[StripeAccount]:
        return [a for a in self.accounts if a.tenant_id == tenant.tenant_id]

    def tenant_credentials(self, tenant: Tenant) -> dict[str, Any]:
        """One entry per store account: what the demo registers as one integration each."""
        return {
            "accounts": [
                account_credentials(a.name, a.store, a.webhook_secret, a.store.cnpj_digits, secret_key=a.secret_key)
                for a in self.accounts_of(tenant)
            ]
        }

    def summary(self) -> dict[str, int]:
        return {
            "stripe_accounts": len(self.accounts),
            "stripe_charges": len(self.charges),
            "stripe_payouts": len(self.stripe_payouts),
            "stripe_balance_transactions": len(self.balance_transactions),
        }

    def digest_parts(self) -> Iterator[str]:
        yield from self.generic_digest_parts()
        for a in self.accounts:
            yield repr((a.account_id, a.name, a.secret_key, a.webhook_secret, a.application, a.bank_account))
        for c in self.charges:
            yield repr(c)
        for t in self.balance_transactions:
            yield repr(t)
        for p in self.stripe_payouts:
            yield repr(p)
        for row in self.fee_schedules:
            yield repr(row)
