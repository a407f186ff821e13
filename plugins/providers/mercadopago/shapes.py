"""The documented shapes of Mercado Pago's answers and notifications, as msgspec Structs.

Sources and confidence are in the package docstring. What a field must hold and why:

- the search envelope carries its stated total (`paging.total`) and echoes the `offset` asked for,
  because pagination ends only on them and must add up to the total (`SearchPage`);
- a payment carries what identifies it and what the reconciliation reads: gross, fees, net,
  release date and status, refunds, dates, the seller's `external_reference`. Keys MP always sends
  (with null while it has no value: `date_approved`, `money_release_date` of a pending payment, a
  payment without `external_reference`) are required but nullable, so a payload that lost one fails
  instead of landing as a row with a silent null;
- money is a JSON number in reais decoded straight into `Decimal` (msgspec reads the digits, never
  a float): 10.05 stays 10.05. A non-finite value (`"NaN"`) fails;
- timestamps must carry their offset (MP writes `-04:00`): a naive one fails.

Unknown fields are ignored: MP adds fields, and the raw payload keeps every one of them anyway.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from plugins.providers.shapes import NonEmpty

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timestamp with its UTC offset; a naive timestamp is not MP's and fails."""

Money = Decimal
"""Reais as a JSON number, decoded exactly (see the module docstring)."""

Count = Annotated[int, msgspec.Meta(ge=0)]


def _finite(where: str, *amounts: Decimal | None) -> None:
    for amount in amounts:
        if amount is not None and not amount.is_finite():
            raise ValueError(f"`{where}` is not a finite amount")


# ---------------------------------------------------------------------------- payments


class FeeDetail(msgspec.Struct):
    """One fee MP (or a marketplace, `application_fee`) took from the payment."""

    type: NonEmpty
    amount: Money
    fee_payer: str | None = None

    def __post_init__(self) -> None:
        _finite("fee_details.amount", self.amount)


class TransactionDetails(msgspec.Struct):
    """What the seller receives: `net_received_amount` (0 or null while nothing is received yet)."""

    net_received_amount: Money | None
    total_paid_amount: Money | None = None
    installment_amount: Money | None = None
    overpaid_amount: Money | None = None

    def __post_init__(self) -> None:
        _finite("transaction_details", self.net_received_amount, self.total_paid_amount, self.installment_amount)


class Refund(msgspec.Struct):
    """A (partial or total) refund of the payment."""

    id: int | NonEmpty
    amount: Money
    date_created: AwareDatetime
    payment_id: int | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        _finite("refunds.amount", self.amount)


class Payment(msgspec.Struct):
    """A payment as `GET /v1/payments/search` lists it (the same object as `GET /v1/payments/{id}`)."""

    id: Annotated[int, msgspec.Meta(gt=0)]
    status: NonEmpty
    status_detail: str | None
    date_created: AwareDatetime
    date_approved: AwareDatetime | None
    date_last_updated: AwareDatetime
    money_release_date: AwareDatetime | None
    money_release_status: str | None
    currency_id: NonEmpty
    transaction_amount: Money
    fee_details: list[FeeDetail]
    transaction_details: TransactionDetails
    installments: Count | None
    payment_method_id: NonEmpty
    payment_type_id: NonEmpty
    external_reference: str | None
    metadata: dict[str, Any] | None
    refunds: list[Refund]
    transaction_amount_refunded: Money | None = None
    operation_type: str | None = None
    collector_id: int | None = None
    live_mode: bool | None = None

    def __post_init__(self) -> None:
        _finite("transaction_amount", self.transaction_amount, self.transaction_amount_refunded)


class Paging(msgspec.Struct):
    """`{total, limit, offset}`: how many payments match, and which slice this page is."""

    total: Count
    limit: Count
    offset: Count


class SearchPage(msgspec.Struct):
    paging: Paging
    results: list[Payment]


class SearchPageRaw(msgspec.Struct):
    """The same page with each payment's exact bytes, which is what lands in raw."""

    results: list[msgspec.Raw]


# ------------------------------------------------------------------------------ account


class Identification(msgspec.Struct):
    type: str | None = None
    number: str | None = None


class User(msgspec.Struct):
    """`GET /users/me`: the account the access token belongs to, and the document it is registered under."""

    id: Annotated[int, msgspec.Meta(gt=0)]
    identification: Identification | None = None
    site_id: str | None = None
    nickname: str | None = None


# ------------------------------------------------------------------------------- errors


class ErrorCause(msgspec.Struct):
    code: int | str | None = None
    description: str | None = None


class ErrorBody(msgspec.Struct):
    """MP's error answers, in the forms it writes them:

    `{"message", "error", "status", "cause": [{code, description, data}]}` (the payments API),
    `{"code": "unauthorized", "message": "invalid access token"}` (the API gateway), and
    `{"code": "PA_UNAUTHORIZED_RESULT_FROM_POLICIES", "blocked_by": "PolicyAgent", "message", "status"}`
    (the policy layer's 403). Each has a `message` and an `error` or a `code`.
    """

    message: str
    error: str | None = None
    code: int | str | None = None
    status: int | str | None = None
    cause: list[ErrorCause] | None = None
    blocked_by: str | None = None

    def __post_init__(self) -> None:
        if self.error is None and self.code is None:
            raise ValueError("neither `error` nor `code`")


# -------------------------------------------------------------------- webhook notifications


class NotificationData(msgspec.Struct):
    """`data.id`: the resource that changed (a payment, a chargeback, a merchant order). MP writes it
    as text; some topics' payloads carry it as a number."""

    id: int | NonEmpty


class _AnyData(msgspec.Struct):
    id: int | NonEmpty | None = None


class Notification(msgspec.Struct):
    """What every Webhooks notification carries: its topic (`type`) or what happened (`action`), and
    MP's own `id` of the notification or the resource it is about (`data.id`), or both; its
    `date_created` when given. Topics we do not know are held to this much only."""

    id: int | NonEmpty | None = None
    type: str | None = None
    action: str | None = None
    date_created: AwareDatetime | None = None
    data: _AnyData | None = None
    live_mode: bool | None = None
    user_id: int | str | None = None
    api_version: str | None = None

    def __post_init__(self) -> None:
        if not (self.type or self.action):
            raise ValueError("neither `type` nor `action`")
        if self.id is None and (self.data is None or self.data.id is None):
            raise ValueError("neither the notification's `id` nor `data.id`")

    @property
    def data_id(self) -> str | None:
        return None if self.data is None or self.data.id is None else str(self.data.id)


class PaymentNotification(msgspec.Struct):
    """Topic `payment` as the Webhooks page documents it: every field of its example is required."""

    id: int | NonEmpty
    type: NonEmpty
    action: NonEmpty
    date_created: AwareDatetime
    live_mode: bool
    data: NotificationData
    user_id: int | str | None = None
    api_version: str | None = None


class ResourceNotification(msgspec.Struct):
    """Chargebacks and merchant orders: a pointer at the resource (`data.id`) to fetch; the rest of
    their payload is known from third-party code only, so it is not held to more."""

    data: NotificationData


PAYMENT_ACTIONS = frozenset({"payment.created", "payment.updated"})
CHARGEBACKS_TOPIC = "topic_chargebacks_wh"
MERCHANT_ORDER_TOPIC = "topic_merchant_order_wh"
PAYMENT_TOPIC = "payment"

# Topics whose notification has a documented shape beyond the envelope.
NOTIFICATION_SHAPES: dict[str, type[msgspec.Struct]] = {
    PAYMENT_TOPIC: PaymentNotification,
    CHARGEBACKS_TOPIC: ResourceNotification,
    MERCHANT_ORDER_TOPIC: ResourceNotification,
}
