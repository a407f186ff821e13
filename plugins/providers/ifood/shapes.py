"""The documented shapes of iFood's answers (Authentication, Financial v3.0), as msgspec Structs.

Each shape lists the fields ingestion or our staging models rely on (`dbt/models/staging/ifood`),
typed as the provider reference (`../shared/reference/providers-banking-ifood.md` §2) documents
them; unknown fields are ignored, since the raw payload keeps every field anyway. What a field
must hold and why:

- envelopes carry their end-of-pagination signal and totals (`page`, `pageCount`, `total` on
  sales; `page`, `hasNextPage` on financial events), because pagination may end only on them;
- records carry what identifies them and the money and dates the reconciliation reads: an order
  event without its order id or expected payment date cannot be reconciled, so it is an error,
  not a row with nulls;
- money is a JSON number or decimal text (`Amount`); `"131,8,9"` or `"abc"` fail.

iFood sometimes wraps an envelope in a one-element array (its reference examples do, its guides do
not): the `*Body` aliases accept both, and the client insists on exactly one element.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from plugins.providers.shapes import Amount, Competence, NonEmpty

# ------------------------------------------------------------------------------------ auth


class Token(msgspec.Struct):
    accessToken: NonEmpty
    expiresIn: Annotated[int, msgspec.Meta(gt=0)]
    type: str | None = None


# ----------------------------------------------------------------------------------- sales


class _GrossValue(msgspec.Struct):
    bag: Amount
    deliveryFee: Amount | None = None
    serviceFee: Amount | None = None


class _Document(msgspec.Struct):
    value: str | None = None
    type: str | None = None


class _Merchant(msgspec.Struct):
    id: str | None = None
    name: str | None = None
    documents: list[_Document] | None = None


class _Benefits(msgspec.Struct):
    totalValue: Amount | None = None


class _BillingSummary(msgspec.Struct):
    saleBalance: Amount | None = None  # null for an order without financial events


class Sale(msgspec.Struct):
    id: NonEmpty
    createdAt: datetime
    currentStatus: NonEmpty
    saleGrossValue: _GrossValue
    shortId: str | None = None
    merchant: _Merchant | None = None
    benefits: _Benefits | None = None
    billingSummary: _BillingSummary | None = None


class SalesPage(msgspec.Struct):
    page: int
    pageCount: int
    total: int
    sales: list[Sale]
    size: int | None = None


SalesBody = SalesPage | list[SalesPage]


# ------------------------------------------------------------------------ financial events


class _EventAmount(msgspec.Struct):
    value: Amount


class _Reference(msgspec.Struct):
    type: str | None = None
    id: str | None = None


class _Period(msgspec.Struct):
    beginDate: date | None = None
    endDate: date | None = None


class _Billing(msgspec.Struct):
    baseValue: Amount | None = None
    feePercentage: Amount | None = None


class _ExpectedSettlement(msgspec.Struct):
    expectedDate: date | None = None


class FinancialEvent(msgspec.Struct):
    name: NonEmpty
    dateTime: datetime
    hasTransferImpact: bool
    amount: _EventAmount
    description: str | None = None
    trigger: str | None = None
    competence: Competence | None = None
    reference: _Reference | None = None
    period: _Period | None = None
    billing: _Billing | None = None
    settlement: _ExpectedSettlement | None = None

    def __post_init__(self) -> None:
        """An entry about an order must say which order and when iFood expects to pay it."""
        if self.reference is not None and (self.reference.type or "").upper() == "ORDER":
            if not self.reference.id:
                raise ValueError("an ORDER entry without `reference.id`")
            if self.settlement is None or self.settlement.expectedDate is None:
                raise ValueError("an ORDER entry without `settlement.expectedDate`")


class EventsPage(msgspec.Struct):
    page: int
    hasNextPage: bool
    financialEvents: list[FinancialEvent]
    size: int | None = None


EventsBody = EventsPage | list[EventsPage]


# ---------------------------------------------------------------- settlements, anticipations


class ClosingItem(msgspec.Struct):
    id: NonEmpty
    type: NonEmpty
    amount: Amount
    status: NonEmpty
    paymentDate: date
    product: str | None = None
    transactionId: str | None = None


class SettlementEntry(msgspec.Struct):
    """A period group (calculation dates + closing items) or a loose title (e.g. REGISTRO_RECEBIVEIS)."""

    startDateCalculation: date | None = None
    endDateCalculation: date | None = None
    closingItems: list[ClosingItem] | None = None
    id: str | None = None
    type: str | None = None
    amount: Amount | None = None
    status: str | None = None
    paymentDate: date | None = None

    def __post_init__(self) -> None:
        if self.closingItems is not None:
            if self.startDateCalculation is None or self.endDateCalculation is None:
                raise ValueError("a settlement group without `startDateCalculation` / `endDateCalculation`")
        elif not (self.id and self.type and self.amount is not None and self.status and self.paymentDate):
            raise ValueError(
                "neither a settlement group (`closingItems`) nor a title (`id`, `type`, `amount`, `status`, "
                "`paymentDate`)"
            )


class SettlementsEnvelope(msgspec.Struct):
    settlements: list[SettlementEntry]
    beginDate: date | None = None
    endDate: date | None = None
    merchantId: str | None = None


SettlementsBody = SettlementsEnvelope | list[SettlementsEnvelope]


class AnticipationItem(msgspec.Struct):
    type: NonEmpty
    status: NonEmpty
    originalPaymentAmount: Amount
    feePercentage: Amount
    feeAmount: Amount
    anticipatedPaymentAmount: Amount
    originalPaymentDate: date
    anticipatedPaymentDate: date
    id: str | None = None


class AnticipationGroup(msgspec.Struct):
    startDateCalculation: date
    endDateCalculation: date
    closingItems: list[AnticipationItem]


class AnticipationsEnvelope(msgspec.Struct):
    settlements: list[AnticipationGroup]
    beginDate: date | None = None
    endDate: date | None = None
    merchantId: str | None = None


AnticipationsBody = AnticipationsEnvelope | list[AnticipationsEnvelope]


# ---------------------------------------------------------------- reconciliation on demand


class OnDemandRequest(msgspec.Struct):
    requestId: NonEmpty
    competence: str | None = None
    merchantId: str | None = None


OnDemandRequestBody = OnDemandRequest | list[OnDemandRequest]

ON_DEMAND_PENDING = frozenset({"created", "enqueue", "enqueued", "processing"})


class OnDemandStatus(msgspec.Struct):
    status: NonEmpty
    id: str | None = None
    competence: str | None = None
    downloadPath: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        status = self.status.lower()
        if status == "processed" and not self.downloadPath:
            raise ValueError("status `processed` without `downloadPath`")
        if status not in ON_DEMAND_PENDING | {"processed", "error"}:
            raise ValueError(f"unknown status {self.status!r}")


OnDemandStatusBody = OnDemandStatus | list[OnDemandStatus]


# --------------------------------------------------------------------------------- errors


class _ErrorDetail(msgspec.Struct):
    code: str | int | None = None
    message: str | None = None


class ErrorBody(msgspec.Struct):
    """iFood's error answers: `{"error": {code, message}}` (most), `{code, message}` (on-demand POST),
    `{"error": "404", message}` (on-demand poll)."""

    error: _ErrorDetail | str | None = None
    code: str | int | None = None
    message: str | None = None
