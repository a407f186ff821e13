"""Asaas's wire format: payments, transfers and statement items as JSON, at any moment of their life.

Money is JSON numbers written from the exact two-place Decimal (`sandbox.core.money.json_number`);
dates are São Paulo dates `YYYY-MM-DD`; the webhook envelope's and a refund's `dateCreated` are São
Paulo wall-clock `YYYY-MM-DD HH:MM:SS`. A payment's state at moment `at` counts what happened
strictly before it (`known`), so the API (at the world's as-of) and each webhook (just after its
event) render the same facts.

Status (first match): `CHARGEBACK_REQUESTED` once disputed, `REFUNDED`, `RECEIVED` once credited,
`CONFIRMED` once paid, `OVERDUE` after the due date, else `PENDING`; a deleted payment keeps its
status with `deleted: true`.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandbox.core.calendar import SAO_PAULO
from sandbox.core.ids import digits_only
from sandbox.core.money import json_number
from sandbox.providers.asaas.records import AsaasAccount, AsaasPayment, AsaasTransfer, StatementItem

BILLING_TYPES = {"pix": "PIX", "card": "CREDIT_CARD", "boleto": "BOLETO"}
INVOICE_BASE = "https://sandbox.asaas.com/i/"
BANK_SLIP_BASE = "https://sandbox.asaas.com/b/pdf/"
RECEIPT_BASE = "https://sandbox.asaas.com/comprovantes/"


def known(moment: datetime | None, at: datetime) -> bool:
    return moment is not None and moment < at


def day_text(moment: datetime | date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        moment = moment.astimezone(SAO_PAULO).date()
    return moment.isoformat()


def wall_clock(moment: datetime) -> str:
    """São Paulo wall-clock time as Asaas writes it: `YYYY-MM-DD HH:MM:SS`."""
    return moment.astimezone(SAO_PAULO).strftime("%Y-%m-%d %H:%M:%S")


def money(value: Decimal) -> float:
    return json_number(value)


def _derived_id(*parts: str) -> str:
    h = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def status_at(p: AsaasPayment, at: datetime) -> str:
    if known(p.chargeback_at, at):
        return "CHARGEBACK_REQUESTED"
    if known(p.refunded_at, at):
        return "REFUNDED"
    if known(p.credited_at, at):
        return "RECEIVED"
    if known(p.confirmed_at, at):
        return "CONFIRMED"
    if known(p.overdue_at, at):
        return "OVERDUE"
    return "PENDING"


def canonical_status(p: AsaasPayment, at: datetime) -> str:
    """docs/payment-reconciliation-rules.md's canonical status of what `payment_at` serves (deleted → failed)."""
    if known(p.deleted_at, at):
        return "failed"
    return {
        "CHARGEBACK_REQUESTED": "charged_back",
        "REFUNDED": "refunded",
        "RECEIVED": "paid",
        "CONFIRMED": "paid",
        "OVERDUE": "expired",
        "PENDING": "pending",
    }[status_at(p, at)]


def _split(p: AsaasPayment, at: datetime) -> list[dict[str, Any]] | None:
    if p.split is None:
        return None
    reason = None
    if known(p.deleted_at, at):
        status, reason = "CANCELLED", "PAYMENT_DELETED"
    elif known(p.refunded_at, at):
        status = "REFUNDED"
    elif known(p.overdue_at, at) and not known(p.confirmed_at, at):
        status, reason = "CANCELLED", "PAYMENT_OVERDUE"
    elif known(p.credited_at, at):
        status = "DONE"
    elif known(p.chargeback_at, at):
        status = "CANCELLED"
    elif known(p.confirmed_at, at):
        status = "AWAITING_CREDIT"
    else:
        status = "PENDING"
    value = money(p.split.fixed_value)
    return [
        {
            "id": p.split.split_id,
            "walletId": p.split.wallet_id,
            "fixedValue": value,
            "percentualValue": None,
            "totalValue": value,
            "cancellationReason": reason,
            "status": status,
            "externalReference": None,
            "description": None,
        }
    ]


def _refunds(p: AsaasPayment, at: datetime) -> list[dict[str, Any]] | None:
    if not known(p.refunded_at, at):
        return None
    assert p.refunded_at is not None
    refund: dict[str, Any] = {
        "dateCreated": wall_clock(p.refunded_at),
        "status": "DONE",
        "value": money(p.value),
        "endToEndIdentifier": None,
        "description": "Estorno solicitado pelo vendedor",
        "effectiveDate": wall_clock(p.refunded_at),
        "transactionReceiptUrl": f"{RECEIPT_BASE}{p.payment_id[4:]}-estorno",
        "refundedSplits": [],
    }
    if p.split is not None:
        refund["refundedSplits"] = [{"id": p.split.split_id, "value": money(p.split.fixed_value), "done": True}]
    return [refund]


def _chargeback(p: AsaasPayment, at: datetime) -> dict[str, Any] | None:
    if not known(p.chargeback_at, at):
        return None
    assert p.chargeback_at is not None
    opened = p.chargeback_at.astimezone(SAO_PAULO).date()
    return {
        "id": _derived_id("chargeback", p.payment_id),
        "payment": p.payment_id,
        "installment": p.installment_id,
        "customerAccount": p.customer_id,
        "status": "REQUESTED",
        "reason": "ABSENT_CARD_FRAUD",
        "disputeStartDate": opened.isoformat(),
        "value": money(p.value),
        "paymentDate": day_text(p.credited_at) if known(p.credited_at, at) else None,
        "creditCard": {"number": p.card_last4, "brand": p.card_brand},
        "disputeStatus": "REQUESTED",
        "deadlineToSendDisputeDocuments": date.fromordinal(opened.toordinal() + 10).isoformat(),
    }


def description(p: AsaasPayment) -> str:
    text = f"{p.product_name} - pedido {p.order.order_id}"
    if p.installment_number:
        text += f". Parcela {p.installment_number} de {p.installment_count}."
    return text


def payment_at(p: AsaasPayment, at: datetime) -> dict[str, Any]:
    """The payment object as Asaas serves it at moment `at` (GET /v3/payments, webhooks)."""
    confirmed = known(p.confirmed_at, at)
    credited = known(p.credited_at, at)
    code = p.payment_id[4:]
    body: dict[str, Any] = {
        "object": "payment",
        "id": p.payment_id,
        "dateCreated": day_text(p.created_at),
        "customer": p.customer_id,
        "subscription": None,
        "installment": p.installment_id,
        "checkoutSession": None,
        "paymentLink": None,
        "value": money(p.value),
        "netValue": money(p.net_value),
        "originalValue": None,
        "interestValue": None,
        "description": description(p),
        "billingType": BILLING_TYPES[p.method],
        "creditCard": (
            {"creditCardNumber": p.card_last4, "creditCardBrand": p.card_brand, "creditCardToken": None}
            if p.method == "card"
            else None
        ),
        "canBePaidAfterDueDate": p.method == "boleto",
        "confirmedDate": day_text(p.confirmed_at) if confirmed else None,
        "pixTransaction": _derived_id("pix", p.payment_id) if p.method == "pix" and confirmed else None,
        "pixQrCodeId": None,
        "status": status_at(p, at),
        "dueDate": p.due_date.isoformat(),
        "originalDueDate": p.due_date.isoformat(),
        "paymentDate": day_text(p.credited_at) if credited else None,
        "clientPaymentDate": day_text(p.confirmed_at) if confirmed else None,
        "installmentNumber": p.installment_number,
        "invoiceUrl": f"{INVOICE_BASE}{code}",
        "invoiceNumber": p.invoice_number,
        "externalReference": p.external_reference,
        "deleted": known(p.deleted_at, at),
        "anticipated": False,
        "anticipable": False,
        "creditDate": day_text(p.credited_at) if credited else None,
        "estimatedCreditDate": day_text(p.estimated_credit_date) if confirmed else None,
        "transactionReceiptUrl": f"{RECEIPT_BASE}{code}" if confirmed else None,
        "nossoNumero": p.nosso_numero,
        "bankSlipUrl": f"{BANK_SLIP_BASE}{code}" if p.method == "boleto" else None,
        "lastInvoiceViewedDate": None,
        "lastBankSlipViewedDate": None,
        "discount": {"value": 0, "limitDate": None, "dueDateLimitDays": 0, "type": "FIXED"},
        "fine": {"value": 0, "type": "FIXED"},
        "interest": {"value": 0, "type": "PERCENTAGE"},
        "postalService": False,
        "custody": None,
        "escrow": None,
        "refunds": _refunds(p, at),
    }
    split = _split(p, at)
    if split is not None:
        body["split"] = split
    chargeback = _chargeback(p, at)
    if chargeback is not None:
        body["chargeback"] = chargeback
    return body


def transfer_at(t: AsaasTransfer, account: AsaasAccount, as_of: date) -> dict[str, Any]:
    """The transfer object (GET /v3/transfers) as the world knows it: DONE once effective before the as-of."""
    done = t.effective_date < as_of
    store = account.store
    bank = store.account
    number, _, digit = bank.account_number.partition("-")
    return {
        "object": "transfer",
        "id": t.transfer_id,
        "type": "BANK_ACCOUNT",
        "dateCreated": day_text(t.created_at),
        "value": money(t.value),
        "netValue": money(t.net_value),
        "transferFee": money(t.fee),
        "status": "DONE" if done else "PENDING",
        "effectiveDate": t.effective_date.isoformat() if done else None,
        "confirmedDate": t.effective_date.isoformat() if done else None,
        "endToEndIdentifier": t.end_to_end_id,
        "scheduleDate": t.schedule_date.isoformat(),
        "authorized": True,
        "failReason": None,
        "transactionReceiptUrl": f"{RECEIPT_BASE}transferencia/{t.transfer_id}" if done else None,
        "operationType": t.operation_type,
        "description": "Transferência automática do saldo",
        "recurring": None,
        "walletId": None,
        "bankAccount": {
            "bank": {"ispb": None, "code": bank.routing_number, "name": bank.bank_name},
            "accountName": bank.bank_name,
            "ownerName": store.legal_name,
            "ownerBirthDate": None,
            "cpfCnpj": digits_only(store.cnpj),
            "agency": bank.branch_number,
            "agencyDigit": None,
            "account": number,
            "accountDigit": digit or None,
            "pixAddressKey": None,
        },
    }


def statement_item(item: StatementItem) -> dict[str, Any]:
    """One `GET /v3/financialTransactions` item; `paymentId` / `splitId` / `transferId` only where they apply.

    A split's debit (and its reversal) names both the payment and the split (`splitId`: the official
    SDK's `FinancialTransactionGetResponseDto` carries it, "Split identifier (If any)").
    """
    body: dict[str, Any] = {
        "object": "financialTransaction",
        "id": item.item_id,
        "value": money(item.value),
        "balance": money(item.balance),
        "type": item.kind,
        "date": day_text(item.at),
        "description": item.description,
    }
    if item.payment_id is not None:
        body["paymentId"] = item.payment_id
    if item.split_id is not None:
        body["splitId"] = item.split_id
    if item.transfer_id is not None:
        body["transferId"] = item.transfer_id
    return body


def commercial_info(account: AsaasAccount) -> dict[str, Any]:
    """`GET /v3/myAccount/commercialInfo/`: who owns the account behind the API key (the store's company).

    The official SDK (asaasdev/asaas-api-sdk-java, `AccountInfoService.retrieveBusinessData`,
    `AccountInfoGetResponseDto`) documents the path, with its trailing slash, and the fields;
    the enums `status` (APPROVED, …), `personType` (JURIDICA | FISICA) and `companyType` (MEI,
    LIMITED, INDIVIDUAL, ASSOCIATION) are the SDK's. Every account of the world is an approved
    company's; `cpfCnpj` in digits, as Asaas writes documents elsewhere (`bankAccount.cpfCnpj`).
    """
    store = account.store
    return {
        "status": "APPROVED",
        "personType": "JURIDICA",
        "cpfCnpj": digits_only(store.cnpj),
        "name": store.legal_name,
        "birthDate": None,
        "companyName": store.legal_name,
        "companyType": "LIMITED",
        "tradingName": store.name,
        "incomeValue": None,
        "email": None,
        "phone": None,
        "mobilePhone": None,
        "site": None,
        "denialReason": None,
        "availableCompanyNames": [store.legal_name],
        "commercialInfoExpiration": {"isExpired": False, "scheduledDate": None},
    }


def page(data: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    """Asaas's list envelope; `hasMore` is the end signal."""
    return {
        "object": "list",
        "hasMore": offset + len(data) < total,
        "totalCount": total,
        "limit": limit,
        "offset": offset,
        "data": data,
    }


def error(code: str, description_text: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "description": description_text}]}
