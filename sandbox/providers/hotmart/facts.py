"""One world's Hotmart facts: producer accounts, purchases as Hotmart serves them, and the rules' generic facts.

`World.facts["hotmart"]` is a `HotmartFacts`: the `GatewayFacts` of the rules
(docs/payment-reconciliation-rules.md, "Sales platforms": payments, the daily deposits, the bank
credits, the tenants' fee and split contracts) plus what the fake API serves. The generic facts are
read off what the wire shows, the way the rules' Hotmart column reads it:

- `payment_id` `purchase.transaction`; `order_id` the order bump's `parent_purchase_transaction`,
  else the transaction; `product_id` `product.id`; `affiliate_id` the AFFILIATE commission's ucode;
  `subscription_id` `subscription.subscriber.code`;
- canonical status from `purchase.status` (CHARGEBACK/PROTESTED → charged_back, REFUNDED,
  APPROVED/COMPLETE → paid, WAITING_PAYMENT/PRINTED_BILLET/PROCESSING_TRANSACTION/OVERDUE →
  pending, EXPIRED, CANCELLED → failed);
- gross = price details `total.value`, fee = `fee.value`, co-producer and affiliate commissions the
  COPRODUCER / AFFILIATE commissions, stated net the PRODUCER commission; paid at `approved_date`;
  `R` = add_business_days(paid date, release_days); refunded at the REFUNDED / CHARGEBACK
  notification's `creation_date` (the status change);
- payouts: the rules' daily deposit, `hotmart:<integration>:<R>`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandbox.core.ids import digits_only
from sandbox.core.parties import Tenant
from sandbox.core.payments.checkout import SplitRate
from sandbox.core.payments.facts import CreditFacts, FeeScheduleRow, PaymentFacts, PayoutFacts
from sandbox.core.payments.gateway import GatewayFacts, account_credentials
from sandbox.core.payments.sales import world_end
from sandbox.providers.hotmart import NAME
from sandbox.providers.hotmart.records import HotmartAccount, HotmartProduct, HotmartSale

CANONICAL = {
    "CHARGEBACK": "charged_back",
    "PROTESTED": "charged_back",
    "DISPUTE": "charged_back",
    "REFUNDED": "refunded",
    "APPROVED": "paid",
    "COMPLETE": "paid",
    "PARTIALLY_REFUNDED": "paid",
    "WAITING_PAYMENT": "pending",
    "PRINTED_BILLET": "pending",
    "PROCESSING_TRANSACTION": "pending",
    "UNDER_ANALISYS": "pending",
    "STARTED": "pending",
    "PRE_ORDER": "pending",
    "OVERDUE": "pending",
    "EXPIRED": "expired",
    "CANCELLED": "failed",
    "NO_FUNDS": "failed",
    "BLOCKED": "failed",
}
ZERO = Decimal("0.00")


def payout_id(account: str, day: date) -> str:
    """The rules' Hotmart payout: the account's deposit of the money released on `day`."""
    return f"{NAME}:{account}:{day.isoformat()}"


def payment_facts(h: HotmartSale, account: HotmartAccount, end: datetime) -> PaymentFacts:
    s = h.sale
    status = CANONICAL[h.status_at(end)]  # type: ignore[index]
    took = status in ("paid", "refunded", "charged_back")
    order = replace(
        s.order,
        order_id=h.parent_transaction or h.transaction,
        product_id=str(h.product.id),
        affiliate_id=h.affiliate.ucode if h.affiliate is not None and took else None,  # read off its commissions
    )
    return PaymentFacts(
        platform=NAME,
        tenant_id=account.tenant_id,
        integration=account.name,
        bank_account_id=account.store.account_id,
        payment_id=h.transaction,
        order=order,
        installments=s.installments,
        status=status,
        gross=s.gross,
        fee=s.fee if took else ZERO,
        split_withheld=s.affiliate_commission + s.coproducer_commission if took else ZERO,
        paid_at=s.paid_at,
        expected_release=s.release if took else None,
        refunded_at=s.undone_at,
        payout_id=payout_id(account.name, s.payout_day) if s.payout_day is not None else None,
        subscription_id=h.subscriber_code,
        coproducer_commission=s.coproducer_commission if took else ZERO,
        affiliate_commission=s.affiliate_commission if took else ZERO,
        stated_net=s.producer_commission if took else ZERO,
    )


@dataclass
class HotmartFacts(GatewayFacts):
    """Hotmart's part of a world (`PlatformFacts`): the generic facts plus what its API serves.

    `accounts` (one per store, in store order), `sales` (by account, then creation), `products`
    (by tenant, then catalogue id), `world_end` (`as_of` 00:00 São Paulo: nothing later is known),
    and lookups `account_by_name`, `account_by_client`, `sales_by_account`, `sale_by_transaction`.
    """

    payout_rule: str | None = "daily_deposit"
    accounts: tuple[HotmartAccount, ...] = ()
    sales: tuple[HotmartSale, ...] = ()
    products: Mapping[str, Mapping[str, HotmartProduct]] = field(default_factory=dict)
    world_end: datetime | None = None

    def __post_init__(self) -> None:
        self.account_by_name = {a.name: a for a in self.accounts}
        self.account_by_client = {a.client_id: a for a in self.accounts}
        self.sales_by_account: dict[str, list[HotmartSale]] = {a.name: [] for a in self.accounts}
        for h in self.sales:
            self.sales_by_account[h.account].append(h)
        self.sale_by_transaction = {h.transaction: h for h in self.sales}

    @classmethod
    def build(
        cls,
        knobs: Any,
        accounts: tuple[HotmartAccount, ...],
        sales: tuple[HotmartSale, ...],
        payouts: Sequence[PayoutFacts],
        fee_rows: Sequence[FeeScheduleRow],
        split_rates: Sequence[SplitRate],
        credits: Sequence[CreditFacts],
        products: Mapping[str, Mapping[str, HotmartProduct]],
    ) -> HotmartFacts:
        end = world_end(knobs.as_of)
        by_name = {a.name: a for a in accounts}
        return cls(
            platform=NAME,
            as_of=knobs.as_of,
            payments=tuple(payment_facts(h, by_name[h.account], end) for h in sales),
            payouts=tuple(payouts),
            credits=tuple(credits),
            fee_schedules=tuple(fee_rows),
            split_rates=tuple(split_rates),
            accounts=accounts,
            sales=sales,
            products=products,
            world_end=end,
        )

    def tenant_credentials(self, tenant: Tenant) -> dict[str, Any]:
        """One entry per producer account (one per store): what the demo registers as one integration each."""
        return {
            "accounts": [
                account_credentials(
                    a.name,
                    a.store,
                    a.hottok,
                    digits_only(a.store.cnpj),
                    client_id=a.client_id,
                    client_secret=a.client_secret,
                    basic=a.basic,
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
        for h in self.sales:
            yield repr(h)
        yield from self.generic_digest_parts()
        for credit in self.credits:
            yield repr(credit)
