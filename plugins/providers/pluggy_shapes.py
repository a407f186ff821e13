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
