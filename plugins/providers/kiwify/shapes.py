"""The documented shapes of Kiwify's answers and notifications, as msgspec Structs.

API (`https://public-api.kiwify.com/v1`):

- `Token`: `POST /v1/oauth/token` → `{access_token, token_type, expires_in, scope}`; `expires_in`
  is a JSON integer in the official example and a string in the same page's schema, so both are
  accepted (digits only);
- `Sale`: one sale as `GET /v1/sales/{id}` serves it, and as `GET /v1/sales` lists it with
  `view_full_sale_details=true`. Required: what the warehouse reads (docs/payment-reconciliation-
  rules.md, "Sales platforms"): `id`, `status`, `payment_method`, `created_at`, `updated_at`,
  `product.id`, `payment.{charge_amount, fee, net_amount}`; typed when present: `installments`,
  `approved_date`, `refunded_at`, `parent_order_id`, `subscription_id`, `revenue_partners[]`,
  `affiliate_commission`. Everything else (customer, tracking, card) stays in the landed payload;
  `SalesPage` / `SalesPageRaw` are the list envelope `{pagination{count, page_number, page_size},
  data[]}`, decoded twice: typed to validate, raw to land each sale's exact bytes;
- `Payout`: `{id, amount, status, legal_entity_id, created_at, updated_at}` (official `GET
  /v1/payouts/{id}` page); `PayoutsPage` assumes the sales list's envelope (UNCONFIRMED, see the
  package docstring).

Money is integer centavos (`Cents`): a JSON integer, never a float (`1005.0` and `10.05` fail), so
nothing fractional can pass for centavos. API timestamps are ISO-8601 with an offset (`…Z`);
one without is refused (`AwareDatetime`).

Webhooks (`OrderNotification`, `CartAbandoned`): the flat order body Kiwify posts, its fields per
`../shared/reference/providers-gateways.md` §7.2. Only `order_id`, `order_status` and
`webhook_event_type` are required; the rest is typed when present. Their dates are text in
Kiwify's own format and are read by `records.kiwify_time`. Capitalised keys (`Product`,
`Commissions`, `Subscription`) are Kiwify's spelling, renamed here to Python names.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from plugins.providers.shapes import NonEmpty

Cents = Annotated[int, msgspec.Meta(ge=0)]
"""An amount in integer centavos (a non-negative JSON integer)."""

CentsOrDigits = Cents | Annotated[str, msgspec.Meta(pattern=r"^\d{1,18}$")]
"""Centavos as a JSON integer or as its digits in a string (webhook bodies write both)."""

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]

SaleId = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$")]
"""A sale (order) id as it reaches a URL path: a UUID in practice; letters, digits, `-` and `_`."""


# ---------------------------------------------------------------------------------- auth


class Token(msgspec.Struct):
    access_token: NonEmpty
    expires_in: Annotated[int, msgspec.Meta(gt=0)] | Annotated[str, msgspec.Meta(pattern=r"^[1-9]\d{0,9}$")]
    token_type: str | None = None
    scope: str | None = None


# --------------------------------------------------------------------------------- sales


class Pagination(msgspec.Struct):
    count: Annotated[int, msgspec.Meta(ge=0)]
    page_number: Annotated[int, msgspec.Meta(ge=1)]
    page_size: Annotated[int, msgspec.Meta(ge=1)]


class ProductRef(msgspec.Struct):
    id: NonEmpty
    name: str | None = None


class Payment(msgspec.Struct):
    charge_amount: Cents
    fee: Cents
    net_amount: Cents
    charge_currency: str | None = None
    fee_currency: str | None = None
    product_base_price: Cents | None = None
    product_base_currency: str | None = None
    settlement_amount: Cents | None = None
    settlement_currency: str | None = None
    sale_tax_amount: Cents | None = None


class RevenuePartner(msgspec.Struct):
    account_id: NonEmpty
    net_amount_split: Cents
    charge_amount_split: Cents
    percentage: Decimal | None = None
    legal_name: str | None = None
    document_id: str | None = None


class AffiliateCommission(msgspec.Struct):
    amount: Cents
    document: str | None = None
    name: str | None = None
    email: str | None = None


class Sale(msgspec.Struct):
    id: SaleId
    status: NonEmpty
    payment_method: NonEmpty
    created_at: AwareDatetime
    updated_at: AwareDatetime
    product: ProductRef
    payment: Payment
    installments: Annotated[int, msgspec.Meta(ge=1)] | None = None
    approved_date: AwareDatetime | None = None
    refunded_at: AwareDatetime | None = None
    parent_order_id: str | None = None
    subscription_id: str | None = None
    revenue_partners: list[RevenuePartner] | None = None
    affiliate_commission: AffiliateCommission | None = None
    net_amount: Cents | None = None
    currency: str | None = None


class SalesPage(msgspec.Struct):
    pagination: Pagination
    data: list[Sale]


class SalesPageRaw(msgspec.Struct):
    pagination: Pagination
    data: list[msgspec.Raw]


# ------------------------------------------------------------------------------- payouts


class Payout(msgspec.Struct):
    id: NonEmpty
    amount: Cents
    status: NonEmpty
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    legal_entity_id: str | None = None


class PayoutsPage(msgspec.Struct):
    pagination: Pagination
    data: list[Payout]


class PayoutsPageRaw(msgspec.Struct):
    pagination: Pagination
    data: list[msgspec.Raw]


# -------------------------------------------------------------------------------- webhooks


class NotificationProduct(msgspec.Struct):
    product_id: str | None = None
    product_name: str | None = None


class CommissionedStore(msgspec.Struct):
    id: str | None = None
    type: str | None = None
    value: CentsOrDigits | None = None


class Commissions(msgspec.Struct):
    charge_amount: CentsOrDigits | None = None
    product_base_price: CentsOrDigits | None = None
    kiwify_fee: CentsOrDigits | None = None
    settlement_amount: CentsOrDigits | None = None
    my_commission: CentsOrDigits | None = None
    commissioned_stores: list[CommissionedStore] | None = None
    currency: str | None = None
    funds_status: str | None = None
    estimated_deposit_date: str | None = None
    deposit_date: str | None = None


class OrderNotification(msgspec.Struct):
    order_id: SaleId
    order_status: NonEmpty
    webhook_event_type: NonEmpty
    order_ref: str | None = None
    payment_method: str | None = None
    installments: int | None = None
    store_id: str | None = None
    subscription_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    approved_date: str | None = None
    refunded_at: str | None = None
    product: NotificationProduct | None = msgspec.field(default=None, name="Product")
    commissions: Commissions | None = msgspec.field(default=None, name="Commissions")
    subscription: dict[str, Any] | None = msgspec.field(default=None, name="Subscription")


class CartAbandoned(msgspec.Struct):
    """The cart-abandonment body: flat, no `webhook_event_type`, `status` = "abandoned"."""

    id: NonEmpty
    status: NonEmpty
    created_at: str | None = None
    product_id: str | None = None
    store_id: str | None = None
    checkout_link: str | None = None
