"""Kiwify's JSON: sales (list item and full sale), payouts, and the webhook body.

Shapes per reference §7.2 / §7.3 (docs.kiwify.com.br "Consultar venda" and "Listar vendas" OpenAPI
pages, "Consultar saque" for payouts; the webhook body from real payloads in third-party code).
Money is integer centavos; timestamps ISO-8601 UTC with milliseconds (`2023-10-31T16:34:35.491Z`) in
the API, São Paulo `YYYY-MM-DD HH:MM` in webhooks (as the samples write them).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sandbox.core.calendar import SAO_PAULO
from sandbox.core.money import to_cents
from sandbox.providers.kiwify.records import PAYMENT_METHODS, KiwifyAccount, KiwifyPayout, KiwifySale

CURRENCY = "BRL"
MONEY = ("paid", "refund_requested", "refunded", "chargedback")


def iso(moment: datetime | None) -> str | None:
    """`2023-10-31T16:34:35.491Z`: UTC with milliseconds."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def local(moment: datetime | None) -> str | None:
    """`2024-01-10 14:33`: São Paulo time, as Kiwify's webhook samples write it."""
    return None if moment is None else moment.astimezone(SAO_PAULO).strftime("%Y-%m-%d %H:%M")


def _cents(k: KiwifySale, status: str) -> dict[str, int]:
    s = k.sale
    took = status in MONEY
    return {
        "gross": to_cents(s.gross),
        "fee": to_cents(s.fee) if took else 0,
        "net": to_cents(s.producer_commission) if took else 0,
        "affiliate": to_cents(s.affiliate_commission) if took else 0,
        "coproducer": to_cents(s.coproducer_commission) if took else 0,
    }


def customer(k: KiwifySale) -> dict[str, Any]:
    c = k.customer
    return {
        "id": c.id,
        "name": c.name,
        "email": c.email,
        "cpf": c.document,
        "mobile": "+5511999990000",
        "country": "BR",
    }


def sale_item(k: KiwifySale, status: str, moment: datetime) -> dict[str, Any]:
    """One `GET /v1/sales` item (without `view_full_sale_details`)."""
    s = k.sale
    return {
        "id": k.id,
        "reference": k.reference,
        "type": "product",
        "created_at": iso(s.created_at),
        "updated_at": iso(k.updated_at(moment)),
        "product": {"id": k.product_id, "name": k.product_name},
        "status": status,
        "payment_method": PAYMENT_METHODS[s.method],
        "net_amount": _cents(k, status)["net"],
        "currency": CURRENCY,
        "customer": customer(k),
    }


def full_sale(k: KiwifySale, account: KiwifyAccount, status: str, moment: datetime) -> dict[str, Any]:
    """`GET /v1/sales/{id}` (and list items with `view_full_sale_details=true`)."""
    s = k.sale
    c = _cents(k, status)
    took = status in MONEY
    partners = []
    if took:
        producer_share = c["net"]
        partners.append(
            {
                "account_id": account.account_id,
                "legal_name": account.store.legal_name,
                "document_id": "".join(ch for ch in account.store.cnpj if ch.isdigit()),
                "percentage": 100 - (int(s.coproducer.rate * 100) if k.coproducer and s.coproducer else 0),
                "net_amount_split": producer_share,
                "charge_amount_split": c["gross"]
                - (round(c["gross"] * s.coproducer.rate) if k.coproducer and s.coproducer else 0),
            }
        )
        if k.coproducer is not None and s.coproducer is not None:
            partners.append(
                {
                    "account_id": k.coproducer.id,
                    "legal_name": k.coproducer.name,
                    "document_id": k.coproducer.document,
                    "percentage": int(s.coproducer.rate * 100),
                    "net_amount_split": c["coproducer"],
                    "charge_amount_split": round(c["gross"] * s.coproducer.rate),
                }
            )
    body = {
        **sale_item(k, status, moment),
        "approved_date": iso(s.paid_at),
        "refunded_at": iso(s.undone_at) if status in ("refunded", "chargedback") else None,
        "boleto_url": f"https://pay.kiwify.com.br/boleto/{k.reference}" if s.method == "boleto" else None,
        "card_last_digits": "4242" if s.method == "card" else None,
        "card_rejection_reason": "Transação recusada pelo banco emissor"
        if status == "refused" and s.method == "card"
        else None,
        "card_type": "mastercard" if s.method == "card" else None,
        "installments": s.installments,
        "is_one_click": False,
        "sale_type": "subscription" if k.subscription_id else "producer",
        "tracking": {
            "src": None,
            "sck": None,
            "utm_source": None,
            "utm_medium": None,
            "utm_campaign": None,
            "s1": s.order.order_id,
        },
        "parent_order_id": k.parent_id,
        "subscription_id": k.subscription_id,
        "payment": {
            "charge_amount": c["gross"],
            "charge_currency": CURRENCY,
            "net_amount": c["net"],
            "product_base_price": c["gross"],
            "product_base_currency": CURRENCY,
            "settlement_amount": c["net"],
            "settlement_currency": CURRENCY,
            "fee": c["fee"],
            "fee_currency": CURRENCY,
            "sale_tax_rate": 0,
            "sale_tax_amount": 0,
        },
        "revenue_partners": partners,
        "affiliate_commission": (
            {
                "name": k.affiliate.name,
                "document": k.affiliate.document,
                "email": k.affiliate.email,
                "amount": c["affiliate"],
            }
            if k.affiliate is not None and took
            else None
        ),
    }
    return body


def payout_item(x: KiwifyPayout) -> dict[str, Any]:
    """One `GET /v1/payouts` item (the "Consultar saque" shape: id, amount in centavos, status, legal_entity_id, created_at, updated_at)."""
    return {
        "id": x.id,
        "amount": to_cents(x.amount),
        "status": "paid",
        "legal_entity_id": x.legal_entity_id,
        "created_at": iso(x.created_at),
        "updated_at": iso(x.created_at),
    }


def webhook_body(
    k: KiwifySale,
    account: KiwifyAccount,
    status: str,
    event: str,
    sent: datetime,
    *,
    subscription_status: str | None = None,
) -> dict[str, Any]:
    """The body Kiwify POSTs for one event of one sale (reference §7.2)."""
    s = k.sale
    c = _cents(k, status)
    took = status in MONEY
    stores = [
        {
            "id": account.account_id,
            "type": "producer",
            "custom_name": account.store.name,
            "email": f"financeiro@{account.name}.example",
            "value": str(c["net"]),
        }
    ]
    if k.coproducer is not None and took:
        stores.append(
            {
                "id": k.coproducer.id,
                "type": "coproducer",
                "custom_name": k.coproducer.name,
                "email": k.coproducer.email,
                "value": str(c["coproducer"]),
            }
        )
    if k.affiliate is not None and took:
        stores.append(
            {
                "id": k.affiliate.id,
                "type": "affiliate",
                "affiliate_id": k.affiliate.id,
                "custom_name": k.affiliate.name,
                "email": k.affiliate.email,
                "value": str(c["affiliate"]),
            }
        )
    released = s.payout_day is not None and s.release is not None and s.release <= sent.astimezone(SAO_PAULO).date()
    body: dict[str, Any] = {
        "order_id": k.id,
        "order_ref": k.reference,
        "order_status": status,
        "product_type": "membership",
        "payment_method": PAYMENT_METHODS[s.method],
        "store_id": account.account_id,
        "installments": s.installments,
        "sale_type": "subscription" if k.subscription_id else "producer",
        "created_at": local(s.created_at),
        "updated_at": local(sent),
        "approved_date": local(s.paid_at) if took else None,
        "refunded_at": local(s.undone_at) if status in ("refunded", "chargedback") else None,
        "webhook_event_type": event,
        "Product": {"product_id": k.product_id, "product_name": k.product_name},
        "Customer": {
            "full_name": k.customer.name,
            "first_name": k.customer.name.split()[0],
            "email": k.customer.email,
            "mobile": "+5511999990000",
            "CPF": k.customer.document,
        },
        "Commissions": {
            "charge_amount": c["gross"],
            "product_base_price": c["gross"],
            "product_base_price_currency": CURRENCY,
            "kiwify_fee": c["fee"],
            "kiwify_fee_currency": CURRENCY,
            "settlement_amount": c["net"],
            "settlement_amount_currency": CURRENCY,
            "sale_tax_rate": 0,
            "sale_tax_amount": 0,
            "commissioned_stores": stores if took else [],
            "currency": CURRENCY,
            "my_commission": c["net"],
            "funds_status": ("released" if released else "waiting") if took else None,
            "estimated_deposit_date": iso_date(s.release) if took else None,
            "deposit_date": iso_date(s.release) if released else None,
        },
        "TrackingParameters": {
            "src": None,
            "sck": None,
            "utm_source": None,
            "utm_medium": None,
            "utm_campaign": None,
            "utm_content": None,
            "utm_term": None,
            "s1": s.order.order_id,
            "s2": None,
            "s3": None,
        },
        "subscription_id": k.subscription_id,
    }
    if k.parent_id is not None:
        body["parent_order_id"] = k.parent_id
    if k.subscription_id is not None and s.subscription is not None:
        sub = s.subscription
        body["Subscription"] = {
            "id": k.subscription_id,
            "start_date": iso(sub.started_at),
            "next_payment": iso(s.created_at + timedelta(days=sub.plan.period_days)),
            "status": subscription_status or ("active" if took else "waiting_payment"),
            "plan": {"id": k.plan_id, "name": k.plan_name, "frequency": sub.plan.period, "qty_charges": 0},
            "charges": {"completed": [], "future": []},
        }
    return body


def iso_date(day: date | None) -> str | None:
    return None if day is None else f"{day.isoformat()}T00:00:00.000Z"
