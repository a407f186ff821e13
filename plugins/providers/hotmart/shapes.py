"""The documented shapes of Hotmart's answers and webhook notifications, as msgspec Structs.

Sources and confidence are in the package docstring. What a field must hold and why:

- every listing (`/sales/history`, `/sales/commissions`, `/sales/price/details`) is `{items,
  page_info}`; `page_info.total_results` is the stated total the pages must add up to, and
  `next_page_token` (absent or null on the last page) the end signal, so `total_results` is
  required and `items` must be a list (a body without them is not an empty page);
- a sale (`SaleItem`) carries what the warehouse reads (docs/payment-reconciliation-rules.md,
  "Sales platforms"): `purchase.transaction`, `status`, `order_date`, `approved_date` (required
  once the sale was paid), `price`, `payment.type` and `installments_number`, `is_subscription`,
  `recurrency_number`, and `product.id`. `order_bump` and `subscription` are not in the REST
  history's documented item (only in webhooks): typed when present, never required;
- commissions carry, per party, `commission.value`, `source` and `user.ucode` (the affiliate's
  ucode is the canonical `affiliate_id`); price details carry `total` (gross) and `fee`;
- money is a JSON number in the currency's major unit, decoded straight into `Decimal` from the
  digits Hotmart wrote (msgspec never goes through float): 10.05 stays 10.05, 1.005 stays 1.005.
  A non-finite amount fails. Dates are integer epoch milliseconds (`Millis`), turned into aware
  UTC datetimes with `records.from_millis`.

Unknown fields are ignored: Hotmart adds fields (`variants`, 2026-03), and the raw payload keeps
every one of them anyway.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec

from plugins.providers.shapes import NonEmpty

Millis = Annotated[int, msgspec.Meta(ge=0)]
"""An instant as integer milliseconds since the Unix epoch (UTC), as Hotmart writes every date."""

Count = Annotated[int, msgspec.Meta(ge=0)]

Money = Decimal
"""An amount as a JSON number in the currency's major unit (reais), decoded exactly."""

# The purchase statuses of the REST API (`transaction_status` and `purchase.status`), from the
# scraped official reference; the webhook enum writes `DISPUTE` where REST writes `PROTESTED`.
PURCHASE_STATUSES: tuple[str, ...] = (
    "APPROVED",
    "BLOCKED",
    "CANCELLED",
    "CHARGEBACK",
    "COMPLETE",
    "EXPIRED",
    "NO_FUNDS",
    "OVERDUE",
    "PARTIALLY_REFUNDED",
    "PRE_ORDER",
    "PRINTED_BILLET",
    "PROCESSING_TRANSACTION",
    "PROTESTED",
    "REFUNDED",
    "STARTED",
    "UNDER_ANALISYS",
    "WAITING_PAYMENT",
)

# Statuses of a sale whose money was captured (it was approved before it reached them): its
# approval date, its commissions and its price details must exist.
PAID_STATUSES = frozenset(
    {"APPROVED", "COMPLETE", "PARTIALLY_REFUNDED", "REFUNDED", "CHARGEBACK", "PROTESTED", "DISPUTE"}
)


def _finite(where: str, *amounts: Decimal | None) -> None:
    for amount in amounts:
        if amount is not None and not amount.is_finite():
            raise ValueError(f"`{where}` is not a finite amount")


# ------------------------------------------------------------------------------- listings


class PageInfo(msgspec.Struct):
    """`page_info`: the stated total, and the cursor of the next page (absent on the last one)."""

    total_results: Count
    next_page_token: str | None = None
    prev_page_token: str | None = None
    results_per_page: Count | None = None


class Product(msgspec.Struct):
    id: Annotated[int, msgspec.Meta(gt=0)]
    name: str | None = None


class Price(msgspec.Struct):
    """A money object of the REST API: `{value, currency_code}`."""

    value: Money
    currency_code: NonEmpty

    def __post_init__(self) -> None:
        _finite("value", self.value)


class Payment(msgspec.Struct):
    type: NonEmpty
    installments_number: Annotated[int, msgspec.Meta(ge=0)] | None = None
    method: str | None = None


class HotmartFee(msgspec.Struct):
    total: Money | None = None
    fixed: Money | None = None
    base: Money | None = None
    percentage: Money | None = None
    currency_code: str | None = None

    def __post_init__(self) -> None:
        _finite("hotmart_fee", self.total, self.fixed, self.base, self.percentage)


class OrderBump(msgspec.Struct):
    is_order_bump: bool
    parent_purchase_transaction: str | None = None


class Purchase(msgspec.Struct):
    transaction: NonEmpty
    status: NonEmpty
    order_date: Millis
    price: Price
    payment: Payment
    is_subscription: bool
    approved_date: Millis | None = None
    recurrency_number: Annotated[int, msgspec.Meta(ge=0)] | None = None
    commission_as: str | None = None
    warranty_expire_date: Millis | None = None
    hotmart_fee: HotmartFee | None = None
    order_bump: OrderBump | None = None

    def __post_init__(self) -> None:
        if self.status in PAID_STATUSES and self.approved_date is None:
            raise ValueError(f"a {self.status} sale without `approved_date`")


class Party(msgspec.Struct):
    """The producer or buyer of a sale, as the history names them."""

    ucode: str | None = None
    name: str | None = None
    email: str | None = None


class Subscriber(msgspec.Struct):
    code: str | None = None


class Subscription(msgspec.Struct):
    subscriber: Subscriber | None = None


class SaleItem(msgspec.Struct):
    """One sale of `GET /payments/api/v1/sales/history`."""

    product: Product
    purchase: Purchase
    producer: Party | None = None
    buyer: Party | None = None
    subscription: Subscription | None = None


class SalesPage(msgspec.Struct):
    items: list[SaleItem]
    page_info: PageInfo


class CommissionAmount(msgspec.Struct):
    """A commission's money; this endpoint writes the currency as `currency_value`."""

    value: Money
    currency_value: str | None = None

    def __post_init__(self) -> None:
        _finite("commission.value", self.value)


class CommissionUser(msgspec.Struct):
    ucode: NonEmpty
    name: str | None = None


class Commission(msgspec.Struct):
    """One party's cut: `source` is PRODUCER, COPRODUCER, AFFILIATE or ADDON."""

    commission: CommissionAmount
    user: CommissionUser
    source: NonEmpty


class CommissionsItem(msgspec.Struct):
    """One sale of `GET /payments/api/v1/sales/commissions`: every party's commission."""

    transaction: NonEmpty
    product: Product
    commissions: list[Commission]
    exchange_rate_currency_payout: Money | None = None


class CommissionsPage(msgspec.Struct):
    items: list[CommissionsItem]
    page_info: PageInfo


class Coupon(msgspec.Struct):
    code: str | None = None
    value: Money | None = None


class PriceDetailsItem(msgspec.Struct):
    """One sale of `GET /payments/api/v1/sales/price/details`: `total` is the gross, `fee` Hotmart's."""

    transaction: NonEmpty
    product: Product
    total: Price
    fee: Price
    base: Price | None = None
    vat: Price | None = None
    coupon: Coupon | None = None
    real_conversion_rate: Money | None = None


class PriceDetailsPage(msgspec.Struct):
    items: list[PriceDetailsItem]
    page_info: PageInfo


class RawPage(msgspec.Struct):
    """Any listing with each item's exact bytes, which is what lands in raw."""

    items: list[msgspec.Raw]


# --------------------------------------------------------------------------- auth and errors


class AccessToken(msgspec.Struct):
    """`POST /security/oauth/token`: `{access_token, token_type: "bearer", expires_in}` (seconds)."""

    access_token: NonEmpty
    expires_in: Annotated[int, msgspec.Meta(gt=0)]
    token_type: str | None = None


class ErrorBody(msgspec.Struct):
    """Hotmart's error answers: `{"error": "invalid_token", "error_description": "…"}` (OAuth2 style)."""

    error: NonEmpty
    error_description: str | None = None
    error_uri: str | None = None


# ------------------------------------------------------------------------------- webhooks


class WebhookEnvelope(msgspec.Struct):
    """Every 2.0.0 notification: `{id, creation_date (ms), event, version, data}`."""

    id: NonEmpty
    creation_date: Millis
    event: NonEmpty
    version: NonEmpty
    data: msgspec.Raw
    hottok: str | None = None


class WebhookMoney(msgspec.Struct):
    """A webhook money object: `{value, currency_value}` (the REST API writes `currency_code`)."""

    value: Money
    currency_value: str | None = None

    def __post_init__(self) -> None:
        _finite("value", self.value)


class WebhookCommission(msgspec.Struct):
    value: Money
    source: NonEmpty
    currency_value: str | None = None

    def __post_init__(self) -> None:
        _finite("commissions.value", self.value)


class WebhookPurchase(msgspec.Struct):
    transaction: NonEmpty
    status: NonEmpty
    price: WebhookMoney
    order_date: Millis | None = None
    approved_date: Millis | None = None
    hottok: str | None = None


class WebhookProduct(msgspec.Struct):
    id: Annotated[int, msgspec.Meta(gt=0)]


class PurchaseData(msgspec.Struct):
    """`data` of a purchase event: the product, the purchase, and every party's commission."""

    product: WebhookProduct
    purchase: WebhookPurchase
    commissions: list[WebhookCommission] = []


class _AnyPurchase(msgspec.Struct):
    transaction: str | None = None
    hottok: str | None = None


class AnyData(msgspec.Struct):
    """`data` of any event, read only for a purchase's transaction (and its legacy `hottok`)."""

    purchase: _AnyPurchase | None = None
