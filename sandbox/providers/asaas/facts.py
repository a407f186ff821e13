"""One world's Asaas facts: accounts, payments, statements, transfers, and the rules' generic facts.

What the fake Asaas API serves and what the ground truth (sandbox.core.payments.truth) reads;
`World.facts["asaas"]` is this object. The generic facts are read from what the wire serves at the
as-of, the way docs/payment-reconciliation-rules.md reads Asaas: status per its table (a deleted
payment is `failed`), gross = `value`, fee = `value` − `netValue`, split_withheld = Σ
`split[].totalValue`, paid_at = the confirmation (`confirmedDate`), R = `estimatedCreditDate`,
refunded_at = `refunds[].dateCreated`, payout = the first `TRANSFER` item after the payment's
`PAYMENT_RECEIVED` item; a payout's A = `netValue`, D = `effectiveDate` (else `scheduleDate`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.core.parties import Tenant
from sandbox.core.payments.facts import PaymentFacts
from sandbox.core.payments.gateway import GatewayFacts, account_credentials
from sandbox.core.payments.payouts import credit_facts
from sandbox.core.platform import PostedBank
from sandbox.providers.asaas import NAME
from sandbox.providers.asaas.records import AsaasAccount, AsaasPayment, AsaasTransfer, StatementItem
from sandbox.providers.asaas.wire import canonical_status, known

if TYPE_CHECKING:
    from sandbox.providers.asaas.story import AsaasStory


@dataclass
class AsaasFacts(GatewayFacts):
    """Asaas's part of a world (the `PlatformFacts` of sandbox.core.platform)."""

    # its withheld split (split[] / split_rules) carries the affiliate commission (rules doc, "Splits")
    withheld_part: str = "affiliate_commission"

    accounts: tuple[AsaasAccount, ...] = ()
    asaas_payments: tuple[AsaasPayment, ...] = ()
    statements: Mapping[str, tuple[StatementItem, ...]] = field(default_factory=dict)
    transfers: tuple[AsaasTransfer, ...] = ()
    known_before: datetime | None = None  # the world's as-of, 00:00 São Paulo: what the API serves

    def __post_init__(self) -> None:
        self.account_by_name = {a.name: a for a in self.accounts}
        self.account_by_key = {a.api_key: a for a in self.accounts}
        self.payments_by_account: dict[str, list[AsaasPayment]] = {a.name: [] for a in self.accounts}
        for p in self.asaas_payments:
            self.payments_by_account[p.account].append(p)
        self.transfers_by_account: dict[str, list[AsaasTransfer]] = {a.name: [] for a in self.accounts}
        for t in self.transfers:
            self.transfers_by_account[t.account].append(t)

    @classmethod
    def from_story(cls, story: AsaasStory, bank: PostedBank) -> AsaasFacts:
        end = story.end
        accounts = {a.name: a for a in story.accounts}
        generic = []
        for p in story.payments:
            account = accounts[p.account]
            confirmed = known(p.confirmed_at, end)
            generic.append(
                PaymentFacts(
                    platform=NAME,
                    tenant_id=account.tenant_id,
                    integration=account.name,
                    bank_account_id=account.account_id,
                    payment_id=p.payment_id,
                    order=p.order,
                    installments=p.installment_count,
                    status=canonical_status(p, end),
                    gross=p.value,
                    fee=p.value - p.net_value,
                    split_withheld=p.split.fixed_value if p.split else Decimal("0.00"),
                    paid_at=p.confirmed_at if confirmed else None,
                    expected_release=p.estimated_credit_date if confirmed else None,
                    refunded_at=p.refunded_at if known(p.refunded_at, end) else None,
                    payout_id=story.payout_of.get(p.payment_id),
                )
            )
        tenants = sorted({a.tenant_id for a in story.accounts})
        split_rates = tuple(rate for t in tenants for rate in story.catalogues[t].split_rates)
        return cls(
            platform=NAME,
            as_of=story.as_of,
            payments=tuple(generic),
            payouts=tuple(story.payout_facts()),
            credits=tuple(credit_facts(NAME, bank.posted, story.planned)),
            fee_schedules=story.fee_rows,
            split_rates=split_rates,
            accounts=story.accounts,
            asaas_payments=tuple(story.payments),
            statements={name: tuple(items) for name, items in story.statements.items()},
            transfers=tuple(story.transfers),
            known_before=end,
        )

    @property
    def as_of_moment(self) -> datetime:
        assert self.known_before is not None
        return self.known_before

    def tenant_credentials(self, tenant: Tenant) -> dict[str, Any]:
        """One integration per store account: its API key, payout CNPJ and webhook token."""
        return {
            "accounts": [
                account_credentials(a.name, a.store, a.webhook_secret, a.store.cnpj, api_key=a.api_key)
                for a in self.accounts
                if a.tenant_id == tenant.tenant_id
            ]
        }

    def summary(self) -> dict[str, int]:
        return {f"{NAME}_payments": len(self.asaas_payments), f"{NAME}_transfers": len(self.transfers)}

    def digest_parts(self) -> Iterator[str]:
        yield from self.generic_digest_parts()
        for a in self.accounts:
            yield repr(a)
        for p in self.asaas_payments:
            yield repr(p)
        for name in sorted(self.statements):
            for item in self.statements[name]:
                yield repr(item)
        for t in self.transfers:
            yield repr(t)
