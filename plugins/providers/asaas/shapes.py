"""The documented shapes of Asaas's answers and webhook notifications, as msgspec Structs.

Asaas's OpenAPI (as the official `asaasdev/asaas-api-sdk-java` ships it) marks every field
optional, so "required" here means what our extraction and the reconciliation cannot do without:
an id, the money (`value`, `netValue`), the status and the dates the filters and staging read.
A record without one of them is an error (ResponseShapeError through `transport.decode_as`), not
a row of nulls. Unknown fields are ignored: the raw payload keeps every field anyway.

Money is a JSON number in reais (`"value": 129.9`): it decodes into `Decimal` exactly, never
through float, and a non-finite amount (`"NaN"`) fails. Dates are `YYYY-MM-DD`; `dateCreated` is
a bare date on payments and transfers and `YYYY-MM-DD HH:MM:SS` (São Paulo time, no zone) on the
webhook envelope, so `DateText` accepts both and `to_date` / `to_datetime` read them.

Listing pages are decoded twice: once into these Structs (to validate every record) and once
into the `*Raw` pages (to keep each record's exact bytes for its raw table).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from plugins.providers.base import BUSINESS_TZ
from plugins.providers.shapes import NonEmpty

DateText = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")]
"""`YYYY-MM-DD`, optionally followed by ` HH:MM:SS` (Asaas writes both, never with a zone)."""


def to_date(text: str) -> date:
    """The calendar date of a `DateText`."""
    return date.fromisoformat(text[:10])


def to_datetime(text: str) -> datetime:
    """A `DateText` as an aware datetime: Asaas writes São Paulo wall time without a zone."""
    naive = datetime.fromisoformat(text) if len(text) > 10 else datetime.fromisoformat(text + " 00:00:00")
    return naive.replace(tzinfo=BUSINESS_TZ)


def _finite(record: msgspec.Struct, *names: str) -> None:
    """ValueError (a ValidationError once msgspec wraps it) for a NaN or infinite amount."""
    for name in names:
        value = getattr(record, name)
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(f"`{name}` is not a finite amount")


def _dates(record: msgspec.Struct, *names: str) -> None:
    """ValueError for a `DateText` that matches the pattern but is no calendar date (`2026-02-30`)."""
    for name in names:
        value = getattr(record, name)
        if value is not None:
            try:
                to_datetime(value)
            except ValueError:
                raise ValueError(f"`{name}` {value!r} is not a date") from None


# ------------------------------------------------------------------------------- payments


class Split(msgspec.Struct):
    """One split of a payment: who gets part of it (`walletId`) and how much."""

    walletId: NonEmpty
    fixedValue: Decimal | None = None
    percentualValue: Decimal | None = None
    totalValue: Decimal | None = None
    totalFixedValue: Decimal | None = None
    status: str | None = None
    id: str | None = None
    externalReference: str | None = None

    def __post_init__(self) -> None:
        _finite(self, "fixedValue", "percentualValue", "totalValue", "totalFixedValue")


class Refund(msgspec.Struct):
    """One refund of a payment (`refunds[]`): its amount and status (PENDING, CANCELLED, DONE)."""

    value: Decimal
    status: NonEmpty
    dateCreated: DateText | None = None

    def __post_init__(self) -> None:
        _finite(self, "value")
        _dates(self, "dateCreated")


class Payment(msgspec.Struct):
    """A charge (cobrança). An installment plan is several payments sharing `installment`."""

    id: NonEmpty
    dateCreated: DateText
    value: Decimal
    netValue: Decimal
    status: NonEmpty
    billingType: NonEmpty
    dueDate: date
    object: str | None = None
    customer: str | None = None
    subscription: str | None = None
    installment: str | None = None
    installmentNumber: int | None = None
    externalReference: str | None = None
    originalValue: Decimal | None = None
    interestValue: Decimal | None = None
    originalDueDate: date | None = None
    confirmedDate: date | None = None
    paymentDate: date | None = None
    clientPaymentDate: date | None = None
    creditDate: date | None = None
    estimatedCreditDate: date | None = None
    deleted: bool | None = None
    anticipated: bool | None = None
    refunds: list[Refund] | None = None
    # Older pages and the SDKs call it `split`, newer doc pages `splits`: both are read.
    split: list[Split] | None = None
    splits: list[Split] | None = None

    def __post_init__(self) -> None:
        _finite(self, "value", "netValue", "originalValue", "interestValue")
        _dates(self, "dateCreated")


class PaymentsPage(msgspec.Struct):
    """`GET /v3/payments`: `{object: "list", hasMore, totalCount, limit, offset, data}`."""

    hasMore: bool
    totalCount: Annotated[int, msgspec.Meta(ge=0)]
    limit: int
    offset: int
    data: list[Payment]


# ---------------------------------------------------------------- statement (extrato)


class FinancialTransaction(msgspec.Struct):
    """One statement line: money that moved in the account (signed `value`) and what it was for."""

    id: NonEmpty
    value: Decimal
    type: NonEmpty
    date: date
    balance: Decimal | None = None
    description: str | None = None
    paymentId: str | None = None
    splitId: str | None = None
    transferId: str | None = None
    anticipationId: str | None = None
    billId: str | None = None
    invoiceId: str | None = None

    def __post_init__(self) -> None:
        _finite(self, "value", "balance")


class FinancialTransactionsPage(msgspec.Struct):
    hasMore: bool
    totalCount: Annotated[int, msgspec.Meta(ge=0)]
    limit: int
    offset: int
    data: list[FinancialTransaction]


# ------------------------------------------------------------------------------ transfers


class _BankAccount(msgspec.Struct):
    cpfCnpj: str | None = None
    ownerName: str | None = None
    accountName: str | None = None


class Transfer(msgspec.Struct):
    """A transfer out of the Asaas account (Pix, TED, or to another Asaas account)."""

    id: NonEmpty
    dateCreated: DateText
    value: Decimal
    status: NonEmpty
    netValue: Decimal | None = None
    transferFee: Decimal | None = None
    effectiveDate: DateText | None = None
    scheduleDate: DateText | None = None
    type: str | None = None
    operationType: str | None = None
    bankAccount: _BankAccount | None = None

    def __post_init__(self) -> None:
        _finite(self, "value", "netValue", "transferFee")
        _dates(self, "dateCreated", "effectiveDate", "scheduleDate")


class TransfersPage(msgspec.Struct):
    hasMore: bool
    totalCount: Annotated[int, msgspec.Meta(ge=0)]
    limit: int
    offset: int
    data: list[Transfer]


class RawPage(msgspec.Struct):
    """Any listing page with its records kept as the exact bytes Asaas sent."""

    data: list[msgspec.Raw]


# -------------------------------------------------------------------------------- account


class CommercialInfo(msgspec.Struct):
    """`GET /v3/myAccount/commercialInfo/`: who the account behind the API key is."""

    cpfCnpj: NonEmpty
    status: str | None = None
    personType: str | None = None
    name: str | None = None
    companyName: str | None = None


# --------------------------------------------------------------------------------- errors


class _ErrorItem(msgspec.Struct):
    code: str | None = None
    description: str | None = None


class ErrorBody(msgspec.Struct):
    """Asaas's error envelope: `{"errors": [{"code": "invalid_value", "description": "…"}]}`."""

    errors: list[_ErrorItem]


# ---------------------------------------------------------------- webhook notifications


class WebhookEnvelope(msgspec.Struct):
    """What every notification carries: its own id (the same on every redelivery) and type.

    The object the event is about comes under a key named after it (`payment`, `transfer`, …);
    it is kept as raw bytes here and decoded by the event's own shape.
    """

    id: NonEmpty
    event: NonEmpty
    dateCreated: DateText | None = None
    # absent: empty bytes (falsy); JSON null: b"null"
    payment: msgspec.Raw = msgspec.Raw(b"")
    transfer: msgspec.Raw = msgspec.Raw(b"")

    def __post_init__(self) -> None:
        _dates(self, "dateCreated")


class _Ref(msgspec.Struct):
    """An object's id, read leniently from events whose payload is not documented."""

    id: str | None = None
