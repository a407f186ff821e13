"""iFood Financial v3.0 settlements (repasses) and the reconciliation CSV, derived from the world's facts.

Nothing here draws anything new: every value comes from the payout batches, their bank credits
and the financial events the world already generated (reference §2.6–2.7):

- one settlement group per payout batch that was not anticipated and is listed (an unlisted batch,
  `PayoutBatch.settlement_listed` False, has none; calculation period = the batch's sale days) with one `REPASSE` closing item per credit (two for a partial payment); a
  credit visible in the bank before `as_of` is `SUCCEED` with its amount and date, a planned one
  dated later is `PENDING` with its planned amount and date, and a batch never paid has one
  `PENDING` item for its total on its expected date;
- one anticipation group per anticipated batch, with one `REPASSE_ANTECIPADO_DIARIO` item;
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

from sandbox.core.money import decimal_text
from sandbox.providers.ifood.facts import IfoodFacts
from sandbox.providers.ifood.records import FinancialEvent, Merchant, Order, PayoutBatch
from sandbox.providers.ifood.truth import is_cancellation
from sandbox.providers.ifood.wire import iso_utc

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


def settlement_id(seed: int, merchant_id: str, expected: date, part: int = 0) -> str:
    """The `id_saldo` of a store's payout on an expected date (part 0): 8–9 digits, stable for the seed.

    The second closing item of a partially paid batch (part 1) gets an id of its own.
    """
    label = f"ifood-saldo|{seed}|{merchant_id}|{expected.isoformat()}" + (f"|{part}" if part else "")
    digest = hashlib.sha256(label.encode()).digest()
    return str(10_000_000 + int.from_bytes(digest[:8], "big") % 890_000_000)


def transaction_id(seed: int, merchant_id: str, expected: date, part: int = 0) -> str:
    """The transfer's `transactionId`: 32 upper-case hex digits (iFood shows opaque codes like `CAEA…`)."""
    label = f"ifood-ted|{seed}|{merchant_id}|{expected.isoformat()}" + (f"|{part}" if part else "")
    return hashlib.sha256(label.encode()).hexdigest()[:32].upper()


def account_details(merchant: Merchant) -> dict[str, str]:
    """Where iFood pays the merchant: the store's bank account."""
    account = merchant.account
    bank = account.routing_number
    number, _, digit = account.account_number.partition("-")
    return {
        "bankName": BANK_NAMES.get(bank, account.bank_name.upper()),
        "bankNumber": bank,
        "branchCode": account.branch_number,
        "accountNumber": number,
        "accountDigit": digit,
        "documentNumber": merchant.cnpj_digits,
    }


def _number(value: Decimal) -> float:
    return float(value)


@dataclass(frozen=True, slots=True)
class ClosingItem:
    """One REPASSE title of a payout batch as iFood's settlements show it, with the dates the API filters on."""

    batch: PayoutBatch
    part: int
    id: str
    payment_date: date
    amount: Decimal
    paid: bool

    def wire(self, facts: IfoodFacts) -> dict[str, Any]:
        merchant = facts.merchant_by_id[self.batch.merchant_id]
        seed, merchant_id, expected = facts.config.seed, self.batch.merchant_id, self.batch.expected_date
        return {
            "id": self.id,
            "type": "REPASSE",
            "product": "IFOOD",
            "amount": _number(self.amount),
            "status": "SUCCEED" if self.paid else "PENDING",
            "transactionId": transaction_id(seed, merchant_id, expected, self.part) if self.paid else None,
            "accountDetails": account_details(merchant),
            "paymentDate": self.payment_date.isoformat(),
        }


def closing_items(facts: IfoodFacts) -> dict[str, list[list[ClosingItem]]]:
    """Per merchant, per payout batch that was not anticipated, its closing items (one per credit).

    A credit dated before `as_of` is a SUCCEED item (its amount and date); a planned credit dated
    later is PENDING (its planned amount and date); a batch without any credit (never paid) has
    one PENDING item for its total on its expected date.
    """
    seed, as_of = facts.config.seed, facts.as_of
    groups: dict[str, list[list[ClosingItem]]] = {m.merchant_id: [] for m in facts.merchants}
    for batch in facts.batches:
        if batch.anticipation is not None:
            continue  # the anticipation paid it: it shows under /anticipations instead
        if not batch.settlement_listed:
            continue  # iFood does not list it (WorldConfig.unlisted_settlement_rate): only the bank shows it
        items = [
            ClosingItem(
                batch,
                part,
                settlement_id(seed, batch.merchant_id, batch.expected_date, part),
                credit.date,
                credit.amount,
                credit.date < as_of,
            )
            for part, credit in enumerate(batch.credits)
        ] or [
            ClosingItem(
                batch,
                0,
                settlement_id(seed, batch.merchant_id, batch.expected_date),
                batch.expected_date,
                batch.total,
                False,
            )
        ]
        groups[batch.merchant_id].append(items)
    return groups


def _envelope(
    merchant: Merchant, begin: date, end: date, balance: Decimal, groups: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "beginDate": begin.isoformat(),
        "endDate": end.isoformat(),
        "balance": _number(balance),
        "merchantId": merchant.merchant_id,
        "settlements": groups,
    }


def _period(batch: PayoutBatch) -> dict[str, str]:
    return {
        "startDateCalculation": batch.first_sale_date.isoformat(),
        "endDateCalculation": batch.last_sale_date.isoformat(),
    }


def _overlaps(batch: PayoutBatch, begin: date, end: date) -> bool:
    return batch.first_sale_date <= end and begin <= batch.last_sale_date


def settlements_body(
    facts: IfoodFacts,
    merchant: Merchant,
    groups: list[list[ClosingItem]],
    begin: date,
    end: date,
    *,
    by_payment: bool,
) -> dict[str, Any] | None:
    """The settlements envelope for [begin, end]; None if no item falls in it.

    By payment date: the items whose `paymentDate` is in the window (a partially paid batch may
    show one of its two items). By calculation date: every item of the batches whose calculation
    period (first..last sale day) overlaps the window.
    """
    chosen: list[tuple[PayoutBatch, list[ClosingItem]]] = []
    for items in groups:
        batch = items[0].batch
        if by_payment:
            hit = [i for i in items if begin <= i.payment_date <= end]
        else:
            hit = items if _overlaps(batch, begin, end) else []
        if hit:
            chosen.append((batch, hit))
    if not chosen:
        return None
    chosen.sort(key=lambda pair: (pair[0].first_sale_date, pair[0].expected_date))
    balance = sum((i.amount for _, items in chosen for i in items if i.paid), Decimal("0.00"))
    return _envelope(
        merchant,
        begin,
        end,
        balance,
        [{**_period(batch), "closingItems": [i.wire(facts) for i in items]} for batch, items in chosen],
    )


def anticipated_batches(facts: IfoodFacts) -> dict[str, list[PayoutBatch]]:
    """Per merchant, its anticipated batches (a merchant with none has no anticipation plan)."""
    batches: dict[str, list[PayoutBatch]] = {m.merchant_id: [] for m in facts.merchants}
    for batch in facts.batches:
        if batch.anticipation is not None:
            batches[batch.merchant_id].append(batch)
    return batches


def anticipations_body(
    facts: IfoodFacts,
    merchant: Merchant,
    batches: list[PayoutBatch],
    begin: date,
    end: date,
    *,
    by_anticipated: bool,
) -> dict[str, Any]:
    """The anticipations envelope (reference §2.8) for [begin, end]; `settlements` may be empty.

    By calculation date: the batches whose calculation period overlaps the window; by
    anticipated payment date: the items whose `anticipatedPaymentDate` is in it.
    """
    chosen = [
        b
        for b in batches
        if b.anticipation is not None
        and (begin <= b.anticipation.date <= end if by_anticipated else _overlaps(b, begin, end))
    ]
    chosen.sort(key=lambda b: (b.first_sale_date, b.expected_date))
    groups = []
    balance = Decimal("0.00")
    weekly = facts.config.payout_schedule == "weekly"
    for batch in chosen:
        a = batch.anticipation
        assert a is not None
        paid = a.date < facts.as_of
        if paid:
            balance += a.amount
        item = {
            "id": settlement_id(facts.config.seed, batch.merchant_id, batch.expected_date),
            "type": "REPASSE_ANTECIPADO_SEMANAL" if weekly else "REPASSE_ANTECIPADO_DIARIO",
            "originalPaymentAmount": _number(a.original_amount),
            "feePercentage": _number(a.fee_rate),
            "feeAmount": _number(a.fee),
            "anticipatedPaymentAmount": _number(a.amount),
            "status": "SUCCEED" if paid else "PENDING",
            "originalPaymentDate": batch.expected_date.isoformat(),
            "anticipatedPaymentDate": a.date.isoformat(),
            "accountDetails": account_details(merchant),
        }
        groups.append({**_period(batch), "closingItems": [item]})
    return _envelope(merchant, begin, end, balance, groups)


def _comma(value: Decimal | None) -> str:
    return "" if value is None else decimal_text(value).replace(".", ",")


def _csv_row(facts: IfoodFacts, merchant: Merchant, order: Order, event: FinancialEvent) -> dict[str, str]:
    cancellation = is_cancellation(event)
    business_day = event.business_date.isoformat()
    return {
        "id_saldo": settlement_id(facts.config.seed, merchant.merchant_id, event.expected_date),
        "competencia": business_day[:7],
        "loja_id": merchant.merchant_id,
        "loja_id_curto": merchant.short_id,
        "loja_id_externo": "",
        "cnpj": merchant.cnpj_digits,
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


def reconciliation_rows(facts: IfoodFacts, merchant: Merchant, competence: str) -> list[dict[str, str]]:
    """One row per financial event of the store whose business day falls in `competence` (YYYY-MM).

    A refund's reversal is booked on a later business day than its order, so it can fall in
    another competence than the order's other lines.
    """
    rows = []
    for order in facts.orders_by_merchant[merchant.merchant_id]:
        for event in order.events:
            if event.business_date.isoformat()[:7] == competence:
                rows.append(_csv_row(facts, merchant, order, event))
    return rows


def reconciliation_csv_gz(rows: list[dict[str, str]]) -> bytes:
    """The rows as iFood's file: header line, `;` delimiter, UTF-8, gzip (mtime 0, so byte-stable)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return gzip.compress(text.getvalue().encode("utf-8"), mtime=0)
