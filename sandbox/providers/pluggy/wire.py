"""Pluggy's wire format for the sandbox's items, accounts and bank transactions.

Field names, enums and shapes follow Pluggy's OpenAPI (`Item`, `Account`, `Transaction`,
`PageResponseTransactions`, `CursorPageResponseTransactions`); the tests validate every body
against the `pluggy_sdk` models. Amounts are JSON numbers written from exact centavos. A payout is
shown as its payer asks (`sandbox.core.bank.Payer`: name, CNPJ, account, descriptions, method);
the rest of a row's wording depends on its kind.

Transactions are rendered straight from a ledger's columns into JSON text: everything that only
depends on (kind, counterparty) is rendered once per account and reused, the rest is a string
format per row. That keeps a 500-row page in the low milliseconds without building a dict per
transaction.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sandbox.core.bank import (
    KIND_BANK_FEE,
    KIND_BOLETO,
    KIND_CARD_SETTLEMENT,
    KIND_PAYOUT,
    KIND_PIX_IN,
    KIND_PIX_OUT,
    KIND_TED_OUT,
    UUID_BITS,
    UUID_MASK,
    BankLedger,
    parties_of_kind,
)
from sandbox.core.counterparties import Counterparty
from sandbox.core.ids import format_uuid
from sandbox.core.platform import SharedWorld
from sandbox.providers.pluggy.records import BankItem

_TIME_OF_DAY = [f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000Z" for s in range(86_400)]


def iso_z(moment: datetime) -> str:
    """`2026-10-01T12:34:56.000Z`: Pluggy's timestamp style (UTC, milliseconds, Z)."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _sync_time(world: SharedWorld) -> datetime:
    """When the sandbox pretends Pluggy last synced every item: 00:00 in São Paulo on `as_of`."""
    return datetime.combine(world.as_of, time(3), UTC)


def connector(bank_item: BankItem) -> dict[str, Any]:
    c = bank_item.connector
    return {
        "id": c.id,
        "name": c.name,
        "institutionUrl": c.institution_url,
        "imageUrl": f"https://cdn.pluggy.ai/assets/connector-icons/{c.id}.svg",
        "primaryColor": c.primary_color,
        "type": "BUSINESS_BANK",
        "country": "BR",
        "hasMFA": False,
        "products": ["ACCOUNTS", "TRANSACTIONS", "PAYMENT_DATA"],
        "oauth": True,
        "isOpenFinance": True,
        "isSandbox": True,
        "health": {"status": "ONLINE", "stage": None},
        "supportsPaymentInitiation": False,
        "createdAt": "2023-03-01T12:00:00.000Z",
        "updatedAt": "2026-01-15T12:00:00.000Z",
    }


def item(world: SharedWorld, bank_item: BankItem) -> dict[str, Any]:
    synced = _sync_time(world)
    created_at = bank_item.created_at
    return {
        "id": bank_item.item_id,
        "connector": connector(bank_item),
        "status": "UPDATED",
        "executionStatus": "SUCCESS",
        "error": None,
        "parameter": None,
        "userAction": None,
        "webhookUrl": None,
        "createdAt": iso_z(created_at),
        "updatedAt": iso_z(synced),
        "lastUpdatedAt": iso_z(synced),
        "statusDetail": None,
        "nextAutoSyncAt": iso_z(synced + timedelta(days=1)),
        "consecutiveFailedLoginAttempts": 0,
        "consentExpiresAt": iso_z(created_at + timedelta(days=365)),
        "products": ["ACCOUNTS", "TRANSACTIONS", "PAYMENT_DATA"],
    }


def account(world: SharedWorld, bank_item: BankItem) -> dict[str, Any]:
    store, bank_account = bank_item.store, bank_item.account
    balance = float(world.ledgers[bank_account.account_id].closing_balance)
    number = f"{bank_account.branch_number}/{bank_account.account_number}"
    return {
        "id": bank_account.account_id,
        "type": "BANK",
        "subtype": "CHECKING_ACCOUNT",
        "number": number,
        "name": "Conta Corrente PJ",
        "marketingName": f"{bank_item.connector.name} Conta PJ",
        "balance": balance,
        "itemId": bank_item.item_id,
        "taxNumber": store.cnpj,
        "owner": store.legal_name,
        "currencyCode": "BRL",
        "bankData": {
            "transferNumber": number,
            "closingBalance": balance,
            "automaticallyInvestedBalance": 0,
            "overdraftContractedLimit": 10000,
            "overdraftUsedLimit": 0,
            "unarrangedOverdraftAmount": 0,
        },
        "createdAt": iso_z(bank_item.created_at),
        "updatedAt": iso_z(_sync_time(world)),
    }


def _participant(party: Counterparty) -> dict[str, Any]:
    return {
        "documentNumber": {"type": party.document_type, "value": party.document},
        "name": party.name,
        "accountNumber": party.account_number,
        "branchNumber": party.branch_number,
        "routingNumber": party.routing_number,
    }


# Pluggy's category of a transfer by how it travelled (a payout's method).
_TRANSFER_CATEGORY = {"TED": "Transfer - TED", "PIX": "Transfer - PIX"}
# noise kind → (type, clean description template, raw description template, category, operationType, paymentMethod)
_KIND_TEXT: dict[int, tuple[str, str, str, str, str, str | None]] = {
    KIND_PIX_IN: ("CREDIT", "PIX RECEBIDO - {name}", "PIX RECEB {name:.30}", "Transfer - PIX", "PIX", "PIX"),
    KIND_PIX_OUT: ("DEBIT", "PIX ENVIADO - {name}", "PIX ENV {name:.30}", "Transfer - PIX", "PIX", "PIX"),
    KIND_BOLETO: ("DEBIT", "PAGAMENTO DE BOLETO - {name}", "PAG BOLETO {name:.28}", "Bills", "BOLETO", "BOLETO"),
    KIND_CARD_SETTLEMENT: (
        "CREDIT",
        "CREDITO VENDAS CARTAO - {name}",
        "CRED VENDAS {name:.26}",
        "Receipts",
        "TED",
        "TED",
    ),
    KIND_TED_OUT: ("DEBIT", "TED ENVIADA - {name}", "TED ENV {routing} {name:.26}", "Transfer - TED", "TED", "TED"),
    KIND_BANK_FEE: (
        "DEBIT",
        "TARIFA BANCARIA - CESTA DE SERVICOS PJ",
        "TAR CESTA SERV PJ",
        "Bank fees",
        "PACOTE_TARIFA_SERVICOS",
        None,
    ),
}


class TransactionRenderer:
    """Renders one account's ledger rows as Pluggy `Transaction` JSON text."""

    def __init__(self, world: SharedWorld, bank_item: BankItem) -> None:
        self.item = bank_item
        self.ledger: BankLedger = world.ledgers[bank_item.account_id]
        self._counterparties = world.counterparties
        self._first = self.ledger.first_day
        self._day_text: dict[int, str] = {}
        # kind << 32 | party → (head up to "amount":, middle from "type" to the paymentData prefix, tail)
        self._fragments: dict[int, tuple[str, str, str]] = {}
        self._account_tail = f',"accountId":"{bank_item.account_id}","createdAt":"'

    def _day(self, ordinal: int) -> str:
        text = self._day_text.get(ordinal)
        if text is None:
            text = self._day_text[ordinal] = date.fromordinal(ordinal).isoformat()
        return text

    def _fragment(self, kind: int, party: int) -> tuple[str, str, str]:
        frag = self._fragments.get(kind << 32 | party)
        if frag is not None:
            return frag
        store, bank_account = self.item.store, self.item.account
        store_side = Counterparty(
            store.legal_name,
            store.cnpj,
            "CNPJ",
            bank_account.routing_number,
            bank_account.branch_number,
            bank_account.account_number,
        )
        reference: str | None = None
        if kind == KIND_PAYOUT:  # worded as its payer asks
            credit = self.ledger.payouts[party]
            payer, reference = credit.payer, credit.reference
            other, txn_type, operation = payer.party, "CREDIT", payer.method
            description, description_raw = payer.description, payer.description_raw
            category, method = _TRANSFER_CATEGORY.get(payer.method, "Transfer"), payer.method
        else:
            txn_type, clean, raw, category, operation, method = _KIND_TEXT[kind]
            parties = parties_of_kind(self._counterparties, kind)
            other = parties[party] if parties else store_side
            description = clean.format(name=other.name, routing=other.routing_number)
            description_raw = raw.format(name=other.name, routing=other.routing_number)
        head = (
            f',"description":{_dumps(description)},"descriptionRaw":{_dumps(description_raw)}'
            f',"currencyCode":"BRL","amount":'
        )
        middle = f',"type":"{txn_type}","category":{_dumps(category)},"operationType":{_dumps(operation)}'
        if method is None or not self.item.connector.sends_payment_data:
            frag = (head, middle + ',"paymentData":null', "")
        else:
            payer, receiver = (other, store_side) if txn_type == "CREDIT" else (store_side, other)
            payment_data = _dumps(
                {"payer": _participant(payer), "receiver": _participant(receiver), "paymentMethod": method}
            )
            if reference is not None:  # the payer's reference for the transfer
                frag = (
                    head,
                    middle + ',"paymentData":' + payment_data[:-1] + ',"referenceNumber":' + _dumps(reference) + "}",
                    "",
                )
            else:  # the bank's number, different per transaction: split the object before its closing brace
                frag = (head, middle + ',"paymentData":' + payment_data[:-1] + ',"referenceNumber":"', '"}')
        self._fragments[kind << 32 | party] = frag
        return frag

    def render(self, i: int) -> str:
        return self.render_many((i,))

    def render_many(self, rows: Iterable[int]) -> str:
        """Rows as a comma-separated run of JSON objects (the inside of a `results` array).

        One f-string per row over locals: this loop is the sandbox's hot path (a benchmark pages a
        million rows through it), so it avoids per-row method calls and big-int arithmetic beyond
        masking. Amounts are exact: `cents / 100` is the double nearest to the true value, and
        `:.2f` rounds it back to the same two decimals for any realistic amount (< 2**53 cents).
        """
        ledger = self.ledger
        keys, kinds, parties = ledger.keys, ledger.kind, ledger.party
        amounts, balances, created = ledger.amount, ledger.balance, ledger.created
        fragments, days, time_of_day = self._fragments, self._day_text, _TIME_OF_DAY
        account_tail = self._account_tail
        out: list[str] = []
        append = out.append
        for i in rows:
            key = keys[i]
            u = key & UUID_MASK
            day = days.get(key >> UUID_BITS) or self._day(key >> UUID_BITS)
            head, middle, tail = fragments.get(kinds[i] << 32 | parties[i]) or self._fragment(kinds[i], parties[i])
            h = f"{u:032x}"
            at = day + time_of_day[created[i]]
            append(
                f'{{"id":"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"{head}{amounts[i] / 100:.2f}'
                f',"date":"{day}T00:00:00.000Z","balance":{balances[i] / 100:.2f}'
                f',"providerCode":"{u & 0x1FFFFFFF:09d}","providerId":"{h}","status":"POSTED"{middle}'
                f'{(u >> 80) & 0xFFFFFFFFFF:012d}{tail}{account_tail}{at}","updatedAt":"{at}"}}'
                if tail
                else f'{{"id":"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"{head}{amounts[i] / 100:.2f}'
                f',"date":"{day}T00:00:00.000Z","balance":{balances[i] / 100:.2f}'
                f',"providerCode":"{u & 0x1FFFFFFF:09d}","providerId":"{h}","status":"POSTED"{middle}'
                f'{account_tail}{at}","updatedAt":"{at}"}}'
            )
        return ",".join(out)


def encode_cursor(ledger: BankLedger, i: int) -> str:
    """Opaque `after` cursor of row i, in the style of Pluggy's: base64 of `<date>|<transaction id>`."""
    key = ledger.keys[i]
    text = f"{date.fromordinal(key >> UUID_BITS).isoformat()}T00:00:00.000Z|{format_uuid(key & UUID_MASK)}"
    return base64.b64encode(text.encode()).decode("ascii")


def decode_cursor(cursor: str) -> int:
    """The sort key a cursor points at; ValueError when it is not one of ours."""
    text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
    moment, _, txn_id = text.partition("|")
    if not moment.endswith("T00:00:00.000Z"):
        raise ValueError("bad cursor date")
    day = date.fromisoformat(moment[:10])
    return (day.toordinal() << UUID_BITS) | uuid.UUID(txn_id).int
