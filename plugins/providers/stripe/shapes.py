"""The documented shapes of Stripe's answers and webhook events, as msgspec Structs.

Fields and types follow the official library's resource types (stripe-python 16.1.0:
`stripe/_charge.py`, `_refund.py`, `_dispute.py`, `_payout.py`, `_balance_transaction.py`,
`_event.py`, `_list_object.py`), which are generated from Stripe's OpenAPI spec. Each shape lists
the fields ingestion or staging relies on: ids, the key columns, money and dates. Stripe writes
every field of an object, with explicit nulls, so a nullable field we read is still *required to be
present* (`payment_intent: str | None` with no default): a body without it is not Stripe's.

- Money is integer minor units (`MinorUnits`): `10.05`, `"1005"` or `true` where Stripe documents
  an integer fail; the payload keeps the integer exactly, and `records.to_major_units` turns it into
  an exact Decimal of the currency's major unit.
- Timestamps are Unix seconds (`UnixTime`); `records.timestamp` makes them tz-aware.
- Currencies are lower-case ISO 4217 codes, as Stripe writes them.
- Expandable references (`charge`, `payment_intent`, `source`, …) are ids, since we never ask for
  `expand[]`; an expanded object in their place is not what we asked for and fails.

A list is `{"object": "list", "data": [...], "has_more": bool, "url": "/v1/…"}`; `has_more` is the
only end signal (Stripe states no totals on lists). Each list is decoded twice: once into the typed
page (to validate every record, with errors that name `data[i]` and its id) and once into `RawPage`
(to keep each record's exact bytes for its raw table).
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec

from plugins.providers.shapes import NonEmpty, Number

T = TypeVar("T")

MinorUnits = int
"""An amount in the currency's minor unit (centavos for BRL), signed; JSON integers only."""

UnixTime = Annotated[int, msgspec.Meta(ge=0)]
"""Seconds since the epoch, as Stripe writes every timestamp (`created`, `available_on`, …)."""

Currency = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{3}$")]
"""A lower-case ISO 4217 code (`brl`)."""


# ------------------------------------------------------------------------------ objects


class FeeDetail(msgspec.Struct):
    amount: MinorUnits
    currency: Currency
    type: NonEmpty  # application_fee | payment_method_passthrough_fee | stripe_fee | tax
    application: str | None = None
    description: str | None = None


class BalanceTransaction(msgspec.Struct):
    """A movement of the Stripe balance: gross `amount`, `fee`, `net` = amount − fee (documented)."""

    id: NonEmpty
    object: Literal["balance_transaction"]
    amount: MinorUnits
    available_on: UnixTime
    created: UnixTime
    currency: Currency
    fee: MinorUnits
    fee_details: list[FeeDetail]
    net: MinorUnits
    reporting_category: NonEmpty
    source: str | None
    status: NonEmpty  # available | pending
    type: NonEmpty
    description: str | None = None
    exchange_rate: Number | None = None

    def __post_init__(self) -> None:
        if self.net != self.amount - self.fee:
            raise ValueError(f"net {self.net} is not amount {self.amount} - fee {self.fee}")


class Charge(msgspec.Struct):
    id: NonEmpty
    object: Literal["charge"]
    amount: MinorUnits
    amount_captured: MinorUnits
    amount_refunded: MinorUnits
    balance_transaction: str | None
    captured: bool
    created: UnixTime
    currency: Currency
    paid: bool
    payment_intent: str | None
    refunded: bool
    status: NonEmpty  # succeeded | pending | failed
    disputed: bool | None = None
    application_fee_amount: MinorUnits | None = None
    failure_code: str | None = None
    description: str | None = None
    metadata: dict[str, str] | None = None


class Refund(msgspec.Struct):
    id: NonEmpty
    object: Literal["refund"]
    amount: MinorUnits
    balance_transaction: str | None
    charge: str | None
    created: UnixTime
    currency: Currency
    payment_intent: str | None
    status: str | None  # pending | requires_action | succeeded | failed | canceled
    reason: str | None = None
    failure_reason: str | None = None


class Dispute(msgspec.Struct):
    id: NonEmpty
    object: Literal["dispute"]
    amount: MinorUnits
    balance_transactions: list[BalanceTransaction]
    charge: NonEmpty
    created: UnixTime
    currency: Currency
    payment_intent: str | None
    reason: NonEmpty
    status: NonEmpty  # warning_needs_response | … | needs_response | under_review | won | lost
    is_charge_refundable: bool | None = None


class Payout(msgspec.Struct):
    id: NonEmpty
    object: Literal["payout"]
    amount: MinorUnits
    arrival_date: UnixTime
    automatic: bool
    balance_transaction: str | None
    created: UnixTime
    currency: Currency
    method: NonEmpty  # standard | instant
    status: NonEmpty  # paid | pending | in_transit | canceled | failed
    type: NonEmpty  # bank_account | card
    destination: str | None = None
    failure_balance_transaction: str | None = None
    failure_code: str | None = None
    statement_descriptor: str | None = None
    reconciliation_status: str | None = None


# -------------------------------------------------------------------------------- lists


class Page(msgspec.Struct, Generic[T]):
    """One page of a list endpoint, every record typed."""

    object: Literal["list"]
    data: list[T]
    has_more: bool
    url: str | None = None


class RawPage(msgspec.Struct):
    """The same page with each record's exact JSON bytes."""

    data: list[msgspec.Raw]


# ------------------------------------------------------------------------------- errors


class ErrorDetail(msgspec.Struct):
    """`error` of Stripe's error envelope; `type` is api_error | card_error | idempotency_error |
    invalid_request_error (stripe-python `_api_requestor.specific_v1_api_error`)."""

    type: NonEmpty
    code: str | None = None
    message: str | None = None
    param: str | None = None
    decline_code: str | None = None
    doc_url: str | None = None


class ErrorBody(msgspec.Struct):
    """`{"error": {type, code, message, param, …}}`; OAuth errors write `error` as a string."""

    error: ErrorDetail | NonEmpty
    error_description: str | None = None


# ------------------------------------------------------------------------------- events


class EventData(msgspec.Struct):
    object: msgspec.Raw
    previous_attributes: dict[str, Any] | None = None


class Event(msgspec.Struct):
    """A webhook event (stripe-python `_event.py`): `object: "event"`, id `evt_…`, `type`, `created`,
    and the object the event is about in `data.object`, as the API would serve it."""

    id: NonEmpty
    object: Literal["event"]
    type: NonEmpty
    created: UnixTime
    data: EventData
    livemode: bool | None = None
    api_version: str | None = None
    account: str | None = None
    pending_webhooks: int | None = None


class ObjectHead(msgspec.Struct):
    """What every event's object has: its kind (`object`). Most objects have an `id` too, but not
    all (a `balance.available` event carries the `balance`, which has none)."""

    object: NonEmpty
    id: str | None = None


# An object kind -> its shape, for the kinds that have an API table of their own.
OBJECT_SHAPES: dict[str, type[msgspec.Struct]] = {
    "charge": Charge,
    "refund": Refund,
    "dispute": Dispute,
    "payout": Payout,
}
