"""The documented shapes of Pluggy's answers, as msgspec Structs.

Required fields are the OpenAPI's (`../shared/reference/providers-banking-ifood.md` §1): `Item`
(id, status, executionStatus), `Account` (id, type, subtype, number, name, balance, itemId,
currencyCode, createdAt, updatedAt), `Transaction` (id, description, currencyCode, amount, date,
accountId, createdAt, updatedAt), and the page envelopes: `{page, total, totalPages, results}` and
the v2 cursor page `{results, next}`, whose `next` must be present (null on the last page) since it
is the only end signal. Optional fields that our staging models read (`taxNumber`, `type`,
`balance`, `paymentData` …) are typed too, so a mistyped one fails instead of landing as a null.

Transactions are the bulk path: a page is decoded once into these Structs (to validate every
record) and once into `CursorPageRaw` (to keep each record's exact bytes for the raw table).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from plugins.providers.shapes import NonEmpty, Number


class ApiKey(msgspec.Struct):
    apiKey: NonEmpty


class Item(msgspec.Struct):
    id: NonEmpty
    status: NonEmpty
    executionStatus: NonEmpty


class Account(msgspec.Struct):
    id: NonEmpty
    type: NonEmpty
    subtype: NonEmpty
    number: str
    name: str
    balance: Number
    itemId: NonEmpty
    currencyCode: NonEmpty
    createdAt: datetime
    updatedAt: datetime
    taxNumber: str | None = None
    marketingName: str | None = None
    owner: str | None = None


class AccountsPage(msgspec.Struct):
    page: int
    total: int
    totalPages: int
    results: list[Account]


class _DocumentNumber(msgspec.Struct):
    type: str | None = None
    value: str | None = None


class _Party(msgspec.Struct):
    documentNumber: _DocumentNumber | None = None
    name: str | None = None


class _PaymentData(msgspec.Struct):
    payer: _Party | None = None
    receiver: _Party | None = None
    paymentMethod: str | None = None
    referenceNumber: str | None = None


class Transaction(msgspec.Struct):
    id: NonEmpty
    description: str
    currencyCode: NonEmpty
    amount: Number
    date: datetime
    accountId: NonEmpty
    createdAt: datetime
    updatedAt: datetime
    type: str | None = None
    status: str | None = None
    balance: Number | None = None
    descriptionRaw: str | None = None
    category: str | None = None
    providerCode: str | None = None
    operationType: str | None = None
    paymentData: _PaymentData | None = None


class CursorPage(msgspec.Struct):
    results: list[Transaction]
    next: str | None


class CursorPageRaw(msgspec.Struct):
    results: list[msgspec.Raw]
    next: str | None


class NumberedTransactions(msgspec.Struct):
    total: int
    totalPages: int
    page: int
    results: list[Transaction]


class ErrorBody(msgspec.Struct):
    """Pluggy's `GlobalErrorResponse`: `code` and `message` required, `codeDescription` optional."""

    code: int
    message: str
    codeDescription: str | None = None


# ------------------------------------------------------------------- webhook notifications
# Payloads as `../shared/reference/providers-banking-ifood.md` §1.10 gives them (Pluggy's SDK
# `WebhookEventPayload`): every notification has `event` and `eventId`; the rest depends on the
# event. `clientId`, `clientUserId` and `triggeredBy` are optional here: the docs say they are
# sent, the SDK's types do not always list them (reference: partially UNCONFIRMED).


class WebhookEnvelope(msgspec.Struct):
    """What every notification carries: its type and its own id (the same on every redelivery)."""

    event: NonEmpty
    eventId: NonEmpty


class ItemEvent(msgspec.Struct):
    """`item/created|updated|deleted|waiting_user_input|waiting_user_action|login_succeeded`."""

    event: NonEmpty
    eventId: NonEmpty
    itemId: NonEmpty
    triggeredBy: str | None = None
    clientId: str | None = None
    clientUserId: str | None = None


class _ItemError(msgspec.Struct):
    code: NonEmpty
    message: str


class ItemErrorEvent(msgspec.Struct):
    """`item/error`: the item's execution ended in an error, which the notification names."""

    event: NonEmpty
    eventId: NonEmpty
    itemId: NonEmpty
    error: _ItemError
    triggeredBy: str | None = None
    clientId: str | None = None
    clientUserId: str | None = None


class _Status(msgspec.Struct):
    status: NonEmpty


class ConnectorStatusEvent(msgspec.Struct):
    """`connector/status_updated`: a connector's health changed; no item is named."""

    event: NonEmpty
    eventId: NonEmpty
    data: _Status


class TransactionsCreatedEvent(msgspec.Struct):
    """`transactions/created`: where the new transactions are, not the transactions themselves."""

    event: NonEmpty
    eventId: NonEmpty
    itemId: NonEmpty
    accountId: NonEmpty
    transactionsCreatedAtFrom: datetime
    createdTransactionsLink: NonEmpty
    clientId: str | None = None


class TransactionsChangedEvent(msgspec.Struct):
    """`transactions/updated|deleted`: the ids of the transactions that changed or went away."""

    event: NonEmpty
    eventId: NonEmpty
    itemId: NonEmpty
    accountId: NonEmpty
    transactionIds: list[NonEmpty]
    clientId: str | None = None


class PaymentRequestEvent(msgspec.Struct):
    """`payment_request/updated`: a payment request's new status."""

    event: NonEmpty
    eventId: NonEmpty
    paymentRequestId: NonEmpty
    data: _Status


ITEM_EVENTS = frozenset(
    {
        "item/created",
        "item/updated",
        "item/deleted",
        "item/waiting_user_input",
        "item/waiting_user_action",
        "item/login_succeeded",
    }
)

# Event type -> the shape its notification must have. Types Pluggy lists without documenting
# their payload (payment intents, scheduled payments, boletos, …) are held to the envelope only.
WEBHOOK_SHAPES: dict[str, type[msgspec.Struct]] = {
    **dict.fromkeys(ITEM_EVENTS, ItemEvent),
    "item/error": ItemErrorEvent,
    "connector/status_updated": ConnectorStatusEvent,
    "transactions/created": TransactionsCreatedEvent,
    "transactions/updated": TransactionsChangedEvent,
    "transactions/deleted": TransactionsChangedEvent,
    "payment_request/updated": PaymentRequestEvent,
}
