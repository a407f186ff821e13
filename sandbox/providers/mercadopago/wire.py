"""Mercado Pago's wire format: payments as `GET /v1/payments/{id}` and `/v1/payments/search` write them,
the account of `GET /users/me`, and MP's error envelope.

- Money is JSON numbers in reais, written from the exact `Decimal` (`sandbox.core.money.json_number`:
  the shortest float text of a two-decimal value is that value, `54.97`, `1997.0`).
- Timestamps carry milliseconds and an offset, as MP writes them: payment dates in `-04:00`
  (MP's examples: `"2017-06-16T21:10:06.000-04:00"`), refunds' `date_created` in `-03:00`
  (the sandbox mixes both on purpose: a reader must compare instants, never the text). A payment's
  release day `R` is the São Paulo date of `money_release_date`, which need not be the date printed
  in its text (an `-04:00` time just before 01:00 São Paulo is the previous calendar day there).
- `fee_details` lists MP's fee (`mercadopago_fee`) and the checkout's platform fee MP withheld for
  the marketplace (`application_fee`), both `fee_payer: "collector"`;
  `transaction_details.net_received_amount` = `transaction_amount` − every fee (0 until the payment
  is approved, and for payments that never were).
- `money_release_status` is `released` once the money reached the account's balance (its
  `money_release_date` is before `as_of` and it was not refunded or charged back before that),
  `pending` for an approved payment whose money is not released, null for payments never approved.
- Errors: `{"message", "error", "status", "cause": [{"code", "description", "data"}]}` (the SDK's
  `MercadoPagoError` reads `message`, `error`, `cause`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sandbox.core.ids import digits_only
from sandbox.core.money import json_number, q
from sandbox.providers.mercadopago.records import Account, Payment, Refund

PAYMENT_TZ = timezone(timedelta(hours=-4))  # how MP writes payment dates
REFUND_TZ = timezone(timedelta(hours=-3))  # the sandbox writes refund dates in São Paulo's offset

ERROR_NAMES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def mp_time(moment: datetime | None, tz: timezone = PAYMENT_TZ) -> str | None:
    """`2026-10-01T10:15:30.000-04:00`, or None."""
    return None if moment is None else moment.astimezone(tz).isoformat(timespec="milliseconds")


def money(value: Decimal) -> float:
    return json_number(value)


def error_body(status: int, message: str, causes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """MP's error envelope."""
    return {
        "message": message,
        "error": ERROR_NAMES.get(status, "error"),
        "status": status,
        "cause": causes or [],
    }


def cause(code: int, description: str) -> dict[str, Any]:
    return {"code": code, "description": description, "data": None}


def refund(r: Refund, account: Account) -> dict[str, Any]:
    return {
        "id": r.refund_id,
        "payment_id": r.payment_id,
        "amount": money(r.amount),
        "metadata": {},
        "source": {"id": str(account.collector_id), "name": account.store.legal_name, "type": "collector"},
        "date_created": mp_time(r.created_at, REFUND_TZ),
        "unique_sequence_number": None,
        "refund_mode": "standard",
        "adjustment_amount": 0,
        "status": "approved",
        "reason": None,
        "labels": [],
        "amount_refunded_to_payer": money(r.amount),
        "partition_details": [],
    }


def payment(p: Payment, account: Account) -> dict[str, Any]:
    """The payment object MP serves (the same in a search's `results` and from `GET /v1/payments/{id}`)."""
    order = p.order
    took = p.took_money
    fees: list[dict[str, Any]] = []
    if took:
        fees.append({"type": "mercadopago_fee", "amount": money(p.mp_fee), "fee_payer": "collector"})
        if p.application_fee:
            fees.append({"type": "application_fee", "amount": money(p.application_fee), "fee_payer": "collector"})
    release_status = ("released" if p.released else "pending") if took else None
    return {
        "id": p.payment_id,
        "date_created": mp_time(p.created_at),
        "date_approved": mp_time(p.approved_at),
        "date_last_updated": mp_time(p.last_updated),
        "date_of_expiration": mp_time(p.expires_at),
        "money_release_date": mp_time(p.release_at) if took else None,
        "money_release_status": release_status,
        "money_release_schema": None,
        "operation_type": "regular_payment",
        "issuer_id": None,
        "payment_method_id": p.payment_method_id,
        "payment_type_id": p.payment_type_id,
        "status": p.status,
        "status_detail": p.status_detail,
        "currency_id": "BRL",
        "description": p.description,
        "live_mode": False,
        "sponsor_id": None,
        "authorization_code": None,
        "collector_id": p.collector_id,
        "binary_mode": False,
        "captured": True,
        "external_reference": order.order_id,
        "metadata": {
            "order_id": order.order_id,
            "product_id": order.product_id,
            "affiliate_id": order.affiliate_id,
        },
        "transaction_amount": money(p.gross),
        "transaction_amount_refunded": money(p.refunded_amount),
        "coupon_amount": 0,
        "differential_pricing_id": None,
        "installments": p.installments,
        "transaction_details": {
            "net_received_amount": money(p.net),
            "total_paid_amount": money(p.gross),
            "overpaid_amount": 0,
            "installment_amount": money(q(p.gross / p.installments)),
            "financial_institution": None,
            "external_resource_url": None,
            "payment_method_reference_id": None,
        },
        "fee_details": fees,
        "taxes_amount": 0,
        "refunds": [refund(r, account) for r in p.refunds],
        "statement_descriptor": None,
    }


def payment_json(p: Payment, account: Account) -> bytes:
    return json.dumps(payment(p, account), separators=(",", ":"), ensure_ascii=False).encode()


def user(account: Account) -> dict[str, Any]:
    """`GET /users/me`: the account the access token belongs to, registered under its store's CNPJ."""
    store = account.store
    return {
        "id": account.collector_id,
        "nickname": account.name.upper().replace("-", "")[:20],
        "registration_date": f"{account.registered_on.isoformat()}T10:00:00.000-04:00",
        "first_name": store.legal_name,
        "last_name": "",
        "country_id": "BR",
        "email": f"financeiro@{account.name}.com.br",
        "identification": {"type": "CNPJ", "number": digits_only(store.cnpj)},
        "user_type": "normal",
        "site_id": "MLB",
        "status": {"site_status": "active"},
    }
