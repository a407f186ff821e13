"""One world's Kiwify facts: producer accounts, sales and payouts as Kiwify serves them, and the rules' generic facts.

The generic facts are read off what `GET /v1/sales/{id}` and `GET /v1/payouts` show, the way the
rules' Kiwify column reads them (docs/payment-reconciliation-rules.md, "Sales platforms"):
`payment_id` `id`; `order_id` `parent_order_id` when set, else `id`; `product_id` `product.id`;
`affiliate_id` `affiliate_commission.document`; `subscription_id`; canonical status from `status`
(chargedback, refunded, paid/approved/refund_requested/pending_refund → paid, waiting_payment/
pending/processing/authorized → pending, refused → failed); gross `payment.charge_amount` / 100,
fee `payment.fee` / 100, co-producer commission Σ `revenue_partners[].net_amount_split` of the
partners other than the account, affiliate commission `affiliate_commission.amount`, stated net
`payment.net_amount`; paid at `approved_date`; `R` from the contract; refunded at `refunded_at`
(which the sandbox also sets on a chargeback: the chargeback's time). Payouts: Kiwify's payout
objects, `A` = `amount` / 100, `D` = `created_at`'s São Paulo date; a released sale's payout is its
account's payout dated `R`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.core.ids import digits_only
from sandbox.core.parties import Tenant
from sandbox.core.payments.checkout import SplitRate
from sandbox.core.payments.facts import CreditFacts, FeeScheduleRow, PaymentFacts, PayoutFacts
from sandbox.core.payments.gateway import GatewayFacts, account_credentials
from sandbox.core.payments.sales import world_end
from sandbox.providers.kiwify import NAME
from sandbox.providers.kiwify.records import KiwifyAccount, KiwifyPayout, KiwifySale

CANONICAL = {
    "chargedback": "charged_back",
    "refunded": "refunded",
    "paid": "paid",
    "approved": "paid",
    "refund_requested": "paid",
    "pending_refund": "paid",
    "waiting_payment": "pending",
    "pending": "pending",
    "processing": "pending",
    "authorized": "pending",
    "refused": "failed",
}
ZERO = Decimal("0.00")


def payment_facts(
    k: KiwifySale, account: KiwifyAccount, payout_ids: dict[tuple[str, object], str], end: datetime
) -> PaymentFacts:
    s = k.sale
    status = CANONICAL[k.status_at(end)]  # type: ignore[index]
    took = status in ("paid", "refunded", "charged_back")
    order = replace(
        s.order,
        order_id=k.parent_id or k.id,
        product_id=k.product_id,
        affiliate_id=k.affiliate.document
        if k.affiliate is not None and took
        else None,  # read off affiliate_commission
    )
    return PaymentFacts(
        platform=NAME,
        tenant_id=account.tenant_id,
        integration=account.name,
        bank_account_id=account.store.account_id,
        payment_id=k.id,
        order=order,
        installments=s.installments,
        status=status,
        gross=s.gross,
        fee=s.fee if took else ZERO,
        split_withheld=s.affiliate_commission + s.coproducer_commission if took else ZERO,
        paid_at=s.paid_at,
        expected_release=s.release if took else None,
        refunded_at=s.undone_at,
        payout_id=payout_ids.get((account.name, s.payout_day)) if s.payout_day is not None else None,
        subscription_id=k.subscription_id,
        coproducer_commission=s.coproducer_commission if took else ZERO,
        affiliate_commission=s.affiliate_commission if took else ZERO,
        stated_net=s.producer_commission if took else ZERO,
    )


@dataclass
class KiwifyFacts(GatewayFacts):
    """Kiwify's part of a world: the generic facts plus what its API serves (accounts, sales, payouts)."""

    payout_rule: str | None = "payout_by_date"
    accounts: tuple[KiwifyAccount, ...] = ()
    sales: tuple[KiwifySale, ...] = ()
    kiwify_payouts: tuple[KiwifyPayout, ...] = ()
    world_end: datetime | None = None

    def __post_init__(self) -> None:
        self.account_by_name = {a.name: a for a in self.accounts}
        self.account_by_client = {a.client_id: a for a in self.accounts}
        self.sales_by_account: dict[str, list[KiwifySale]] = {a.name: [] for a in self.accounts}
        for k in self.sales:
            self.sales_by_account[k.account].append(k)
        self.sale_by_id = {k.id: k for k in self.sales}
        self.payouts_by_account: dict[str, list[KiwifyPayout]] = {a.name: [] for a in self.accounts}
        for x in self.kiwify_payouts:
            self.payouts_by_account[x.account].append(x)

    @classmethod
    def build(
        cls,
        knobs: Any,
        accounts: tuple[KiwifyAccount, ...],
        sales: tuple[KiwifySale, ...],
        payouts: tuple[KiwifyPayout, ...],
        generic_payouts: Sequence[PayoutFacts],
        fee_rows: Sequence[FeeScheduleRow],
        split_rates: Sequence[SplitRate],
        credits: Sequence[CreditFacts],
    ) -> KiwifyFacts:
        end = world_end(knobs.as_of)
        by_name = {a.name: a for a in accounts}
        payout_ids = {(x.account, x.day): x.id for x in payouts}
        return cls(
            platform=NAME,
            as_of=knobs.as_of,
            payments=tuple(payment_facts(k, by_name[k.account], payout_ids, end) for k in sales),
            payouts=tuple(generic_payouts),
            credits=tuple(credits),
            fee_schedules=tuple(fee_rows),
            split_rates=tuple(split_rates),
            accounts=accounts,
            sales=sales,
            kiwify_payouts=payouts,
            world_end=end,
        )

    def tenant_credentials(self, tenant: Tenant) -> dict[str, Any]:
        """One entry per producer account (one per store): what the demo registers as one integration each."""
        return {
            "accounts": [
                account_credentials(
                    a.name,
                    a.store,
                    a.webhook_secret,
                    digits_only(a.store.cnpj),
                    client_id=a.client_id,
                    client_secret=a.client_secret,
                    account_id=a.account_id,
                )
                for a in self.accounts
                if a.tenant_id == tenant.tenant_id
            ]
        }

    def summary(self) -> dict[str, int]:
        return {f"{NAME}_sales": len(self.sales), f"{NAME}_payouts": len(self.payouts)}

    def digest_parts(self) -> Iterator[str]:
        for account in self.accounts:
            yield repr(account)
        for k in self.sales:
            yield repr(k)
        for x in self.kiwify_payouts:
            yield repr(x)
        yield from self.generic_digest_parts()
        for credit in self.credits:
            yield repr(credit)
