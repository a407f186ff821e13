"""Hotmart's JSON: the sales endpoints' items, their pages, and the webhook (2.0.0) payload.

Shapes per reference §6.2 / §6.4 (developers.hotmart.com pages as copied by third parties: the
api-evangelist capture of the webhook docs and im-voracity/hotmart-python's models and API
reference). Money is a JSON number written with exactly two decimals from the exact `Decimal`
(`12.30`, never a float's `12.3`): `dumps` writes `Decimal`s that way. Dates are epoch
milliseconds. The REST sales history names the currency `currency_code`, the webhooks
`currency_value` (as Hotmart does).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.core.money import decimal_text
from sandbox.providers.hotmart.records import PAYMENT_TYPES, HotmartAccount, HotmartSale

CURRENCY = "BRL"
ZERO = Decimal("0.00")


def dumps(value: Any) -> bytes:
    """Compact JSON with every `Decimal` as a two-decimal number (`1.50`)."""
    return _write(value).encode()


def _write(value: Any) -> str:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{_write(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_write(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def _took(status: str) -> bool:
    return status in ("APPROVED", "COMPLETE", "REFUNDED", "CHARGEBACK", "PROTESTED")


def history_item(h: HotmartSale, account: HotmartAccount, status: str) -> dict[str, Any]:
    """One `GET /payments/api/v1/sales/history` item."""
    s = h.sale
    took = _took(status)
    purchase: dict[str, Any] = {
        "transaction": h.transaction,
        "order_date": ms(s.created_at),
        "approved_date": ms(s.paid_at) if s.paid_at is not None else None,
        "status": status,
        "recurrency_number": s.number,
        "is_subscription": s.subscription is not None,
        "commission_as": "PRODUCER",
        "price": {"value": s.gross, "currency_code": CURRENCY},
        "payment": {
            "method": PAYMENT_TYPES[s.method],
            "installments_number": s.installments,
            "type": PAYMENT_TYPES[s.method],
        },
        "tracking": {
            "source_sck": "HOTMART_AFFILIATE" if h.affiliate is not None else None,
            "source": "AFFILIATE" if h.affiliate is not None else "PRODUCER",
            "external_code": s.order.order_id,
        },
        "warranty_expire_date": ms(s.warranty_until),
        "offer": {"payment_mode": "SUBSCRIPTION" if s.subscription else "UNIQUE_PAYMENT", "code": h.offer_code},
        "hotmart_fee": {
            "total": s.fee if took else ZERO,
            "fixed": s.fixed_fee if took else ZERO,
            "currency_code": CURRENCY,
            "base": s.gross,
            "percentage": float(s.percent_fee) if took else 0.0,
        },
    }
    if h.parent_transaction is not None:
        purchase["order_bump"] = {"is_order_bump": True, "parent_purchase_transaction": h.parent_transaction}
    item: dict[str, Any] = {
        "product": {"id": h.product.id, "name": h.product.name},
        "buyer": {"name": h.buyer.name, "ucode": h.buyer.ucode, "email": h.buyer.email},
        "producer": {"name": account.store.legal_name, "ucode": account.ucode},
        "purchase": purchase,
    }
    if h.subscriber_code is not None:
        item["subscription"] = {
            "subscriber": {"code": h.subscriber_code},
            "plan": {"id": h.product.plan_id, "name": h.product.plan_name},
            "status": subscription_status(h, status),
        }
    return item


def subscription_status(h: HotmartSale, status: str) -> str:
    sub = h.sale.subscription
    if status == "OVERDUE":
        return "DELAYED"
    if sub is not None and sub.canceled_at is not None:
        return "CANCELLED_BY_CUSTOMER"
    return "ACTIVE"


def commissions(h: HotmartSale, account: HotmartAccount, status: str) -> list[tuple[str, Decimal, str, str]]:
    """(source, value, ucode, name) of each party's commission; none for a purchase that took no money."""
    s = h.sale
    if not _took(status):
        return []
    out = [("PRODUCER", s.producer_commission, account.ucode, account.store.legal_name)]
    if h.coproducer is not None:
        out.append(("COPRODUCER", s.coproducer_commission, h.coproducer.ucode, h.coproducer.name))
    if h.affiliate is not None:
        out.append(("AFFILIATE", s.affiliate_commission, h.affiliate.ucode, h.affiliate.name))
    return out


def commissions_item(h: HotmartSale, account: HotmartAccount, status: str) -> dict[str, Any]:
    """One `GET /payments/api/v1/sales/commissions` item."""
    return {
        "transaction": h.transaction,
        "product": {"id": h.product.id, "name": h.product.name},
        "exchange_rate_currency_payout": 1.0,
        "commissions": [
            {
                "commission": {"value": value, "currency_value": CURRENCY},
                "user": {"ucode": ucode, "name": name},
                "source": source,
            }
            for source, value, ucode, name in commissions(h, account, status)
        ],
    }


def price_details_item(h: HotmartSale, status: str) -> dict[str, Any]:
    """One `GET /payments/api/v1/sales/price/details` item."""
    s = h.sale
    coupon = s.order.coupon_code
    return {
        "transaction": h.transaction,
        "product": {"id": h.product.id, "name": h.product.name},
        "base": {"value": s.gross, "currency_code": CURRENCY},
        "total": {"value": s.gross, "currency_code": CURRENCY},
        "vat": {"value": ZERO, "currency_code": CURRENCY},
        "fee": {"value": s.fee if _took(status) else ZERO, "currency_code": CURRENCY},
        "coupon": {"code": coupon, "value": ZERO} if coupon else None,
        "real_conversion_rate": 1.0,
    }


def webhook_data(h: HotmartSale, account: HotmartAccount, status: str) -> dict[str, Any]:
    """The `data` of a purchase notification (version 2.0.0) at the moment the purchase took `status`."""
    s = h.sale
    took = _took(status)
    money = [{"value": s.fee, "currency_value": CURRENCY, "source": "MARKETPLACE"}] if took else []
    money += [
        {"value": value, "currency_value": CURRENCY, "source": source}
        for source, value, _, _ in commissions(h, account, status)
    ]
    purchase: dict[str, Any] = {
        "transaction": h.transaction,
        "status": status,
        "order_date": ms(s.created_at),
        "approved_date": ms(s.paid_at) if s.paid_at is not None and took else None,
        "price": {"value": s.gross, "currency_value": CURRENCY},
        "full_price": {"value": s.gross, "currency_value": CURRENCY},
        "original_offer_price": {"value": s.gross, "currency_value": CURRENCY},
        "payment": {"type": PAYMENT_TYPES[s.method], "installments_number": s.installments},
        "offer": {"code": h.offer_code},
        "order_bump": {
            "is_order_bump": h.parent_transaction is not None,
            **({"parent_purchase_transaction": h.parent_transaction} if h.parent_transaction else {}),
        },
        "recurrence_number": s.number,
        "is_subscription": s.subscription is not None,
        "warranty_expire_date": ms(s.warranty_until),
        "checkout_country": {"iso": "BR", "name": "Brasil"},
    }
    data: dict[str, Any] = {
        "product": {
            "id": h.product.id,
            "ucode": h.product.ucode,
            "name": h.product.name,
            "has_co_production": h.coproducer is not None,
        },
        "affiliates": [{"affiliate_code": h.affiliate.code, "name": h.affiliate.name}] if h.affiliate else [],
        "buyer": {"name": h.buyer.name, "email": h.buyer.email, "checkout_phone": "5531999990000"},
        "producer": {"name": account.store.legal_name},
        "commissions": money,
        "purchase": purchase,
    }
    if h.subscriber_code is not None:
        data["subscription"] = {
            "subscriber": {"code": h.subscriber_code},
            "plan": {"id": h.product.plan_id, "name": h.product.plan_name},
            "status": subscription_status(h, status),
        }
    return data
