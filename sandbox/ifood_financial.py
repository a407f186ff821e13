"""iFood Financial v3.0 settlements (repasses) and the reconciliation CSV, derived from the world's facts.

Nothing here draws anything new: every value comes from the payout batches, their bank credits
and the financial events the world already generated (reference §2.6–2.7):

- one settlement group per payout batch (calculation period = the batch's business day, the day
  its orders were sold) with one `REPASSE` closing item; a batch whose credit is visible in the
  bank before `as_of` is `SUCCEED` with the credited amount and the credit's date, any other
  batch (not due yet, paid after `as_of`, never paid) is `PENDING` with the batch total and its
  expected date;
- the closing item `id` is the batch's `id_saldo`, a stable number derived from the seed, the
  merchant and the expected date; every CSV line of an order of that store and expected date
  carries it (a cancelled order's lines too: they net to zero, so per `id_saldo` the `SIM` lines
  sum to the batch total);
- the CSV is gzip, `;`-delimited, UTF-8, one line per financial event of the competence (month of
  the event's business day), money with a decimal comma, and its columns in an order of our own
  (a parser must read them by header name).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sandbox.ids import digits_only
from sandbox.ifood_wire import iso_utc
from sandbox.money import decimal_text
from sandbox.truth import is_cancellation
from sandbox.world import FinancialEvent, Order, PayoutBatch, Store, World

# COMPE code → the bank's legal name, as iFood's `accountDetails.bankName` shows it.
BANK_NAMES = {
    "341": "ITAU UNIBANCO S.A.",
    "237": "BANCO BRADESCO S.A.",
    "001": "BANCO DO BRASIL S.A.",
    "033": "BANCO SANTANDER (BRASIL) S.A.",
}

# Reference §2.6 lists these names; the file writes them in this (different) order on purpose.
CSV_COLUMNS = (
    "id_saldo",
    "competencia",
    "loja_id",
    "loja_id_curto",
    "loja_id_externo",
    "cnpj",
    "pedido_associado_ifood",
    "pedido_associado_ifood_curto",
    "pedido_associado_externo",
    "data_criacao_pedido_associado",
    "fato_gerador",
    "data_fato_gerador",
    "tipo_lancamento",
    "descricao_lancamento",
    "valor",
    "base_calculo",
    "percentual_taxa",
    "impacto_no_repasse",
    "data_repasse_esperada",
    "parcela_pagamento",
    "motivo_cancelamento",
    "descricao_ocorrencia",
    "valor_transacao",
    "titulo",
    "data_faturamento",
    "data_apuracao_inicio",
    "data_apuracao_fim",
    "valor_cesta_inicial",
    "valor_cesta_final",
    "responsavel_transacao",
    "canal_vendas",
)

_TIPO_LANCAMENTO = {
    "ORDER_PAYMENT": "venda",
    "IFOOD_SUBSIDY": "subsidio",
    "ORDER_COMMISSION": "comissao",
    "TRANSACTION_FEE": "taxa",
    "SERVICE_FEE": "cobranca",
}


def settlement_id(seed: int, merchant_id: str, expected: date) -> str:
    """The `id_saldo` of a store's payout on an expected date: 8–9 digits, stable for the seed."""
    digest = hashlib.sha256(f"ifood-saldo|{seed}|{merchant_id}|{expected.isoformat()}".encode()).digest()
    return str(10_000_000 + int.from_bytes(digest[:8], "big") % 890_000_000)


def transaction_id(seed: int, merchant_id: str, expected: date) -> str:
    """The transfer's `transactionId`: 32 upper-case hex digits (iFood shows opaque codes like `CAEA…`)."""
    return hashlib.sha256(f"ifood-ted|{seed}|{merchant_id}|{expected.isoformat()}".encode()).hexdigest()[:32].upper()


def account_details(store: Store) -> dict[str, str]:
    bank = store.connector.routing_number
    number, _, digit = store.account_number.partition("-")
    return {
        "bankName": BANK_NAMES.get(bank, store.connector.name.upper()),
        "bankNumber": bank,
        "branchCode": store.branch_number,
        "accountNumber": number,
        "accountDigit": digit,
        "documentNumber": store.cnpj_digits,
    }


def _number(value: Decimal) -> float:
    return float(value)


@dataclass(frozen=True, slots=True)
class ClosingItem:
    """A payout batch as iFood's settlements show it, with the dates the API filters on."""

    batch: PayoutBatch
    id: str
    calculation_date: date  # the orders' business day
    payment_date: date
    amount: Decimal
    paid: bool

    def wire(self, world: World) -> dict[str, Any]:
        store = world.store_by_merchant[self.batch.merchant_id]
        return {
            "id": self.id,
            "type": "REPASSE",
            "product": "IFOOD",
            "amount": _number(self.amount),
            "status": "SUCCEED" if self.paid else "PENDING",
            "transactionId": transaction_id(world.config.seed, self.batch.merchant_id, self.batch.expected_date)
            if self.paid
            else None,
            "accountDetails": account_details(store),
            "paymentDate": self.payment_date.isoformat(),
        }


def closing_items(world: World) -> dict[str, list[ClosingItem]]:
    """Per merchant, one closing item per payout batch, by expected date."""
    term = world.config.payout_term_days
    items: dict[str, list[ClosingItem]] = {s.merchant_id: [] for s in world.stores}
    for batch in world.batches:
        paid = batch.credit_date is not None and batch.credit_amount is not None and batch.credit_date < world.as_of
        items[batch.merchant_id].append(
            ClosingItem(
                batch=batch,
                id=settlement_id(world.config.seed, batch.merchant_id, batch.expected_date),
                calculation_date=date.fromordinal(batch.expected_date.toordinal() - term),
                payment_date=batch.credit_date if paid and batch.credit_date else batch.expected_date,
                amount=batch.credit_amount if paid and batch.credit_amount is not None else batch.total,
                paid=paid,
            )
        )
    return items


def settlements_body(
    world: World, store: Store, items: list[ClosingItem], begin: date, end: date, *, by_payment: bool
) -> dict[str, Any] | None:
    """The settlements envelope for the items whose payment (or calculation) date is in [begin, end]; None if none."""
    chosen = [i for i in items if begin <= (i.payment_date if by_payment else i.calculation_date) <= end]
    if not chosen:
        return None
    chosen.sort(key=lambda i: (i.calculation_date, i.payment_date))
    balance = sum((i.amount for i in chosen if i.paid), Decimal("0.00"))
    return {
        "beginDate": begin.isoformat(),
        "endDate": end.isoformat(),
        "balance": _number(balance),
        "merchantId": store.merchant_id,
        "settlements": [
            {
                "startDateCalculation": i.calculation_date.isoformat(),
                "endDateCalculation": i.calculation_date.isoformat(),
                "closingItems": [i.wire(world)],
            }
            for i in chosen
        ],
    }


def _comma(value: Decimal | None) -> str:
    return "" if value is None else decimal_text(value).replace(".", ",")


def _csv_row(world: World, store: Store, order: Order, event: FinancialEvent) -> dict[str, str]:
    cancellation = is_cancellation(event)
    business_day = event.business_date.isoformat()
    return {
        "id_saldo": settlement_id(world.config.seed, store.merchant_id, event.expected_date),
        "competencia": business_day[:7],
        "loja_id": store.merchant_id,
        "loja_id_curto": store.short_id,
        "loja_id_externo": "",
        "cnpj": digits_only(store.cnpj),
        "pedido_associado_ifood": order.order_id,
        "pedido_associado_ifood_curto": order.short_id,
        "pedido_associado_externo": "",
        "data_criacao_pedido_associado": iso_utc(order.created_at),
        "fato_gerador": "Cancelamento Total" if cancellation else "Venda",
        "data_fato_gerador": event.local_date.isoformat(),
        "tipo_lancamento": "estorno" if cancellation else _TIPO_LANCAMENTO.get(event.name, event.name.lower()),
        "descricao_lancamento": event.description,
        "valor": _comma(event.amount),
        "base_calculo": _comma(event.base_value),
        "percentual_taxa": _comma(event.fee_percentage),
        "impacto_no_repasse": "SIM",
        "data_repasse_esperada": event.expected_date.isoformat(),
        "parcela_pagamento": "1",
        "motivo_cancelamento": f"{event.name} - {event.description}" if cancellation else "",
        "descricao_ocorrencia": "",
        "valor_transacao": _comma(order.paid_by_customer),
        "titulo": "REPASSE",
        "data_faturamento": business_day,
        "data_apuracao_inicio": business_day,
        "data_apuracao_fim": business_day,
        "valor_cesta_inicial": _comma(order.bag),
        "valor_cesta_final": _comma(order.bag),
        "responsavel_transacao": "IFOOD",
        "canal_vendas": "IFOOD",
    }


def reconciliation_rows(world: World, store: Store, competence: str) -> list[dict[str, str]]:
    """One row per financial event of the store whose business day falls in `competence` (YYYY-MM)."""
    rows = []
    for order in world.orders_by_merchant[store.merchant_id]:
        if order.business_date.isoformat()[:7] != competence:
            continue
        rows.extend(_csv_row(world, store, order, event) for event in order.events)
    return rows


def reconciliation_csv_gz(rows: list[dict[str, str]]) -> bytes:
    """The rows as iFood's file: header line, `;` delimiter, UTF-8, gzip (mtime 0, so byte-stable)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return gzip.compress(text.getvalue().encode("utf-8"), mtime=0)
