"""iFood's Financial API v3.0 wire format for the sandbox's sales and financial events.

Field names follow the third-party copies of iFood's Swagger quoted in the provider reference
(§2.3 sales, §2.4 financial events). Sales carry money as JSON numbers; financial events carry it
as strings with two decimals (`"amount": {"value": "-3.99"}`), as iFood does. Timestamps are UTC
with a `Z`; a sale's or event's *date* for filtering is its calendar day in America/Sao_Paulo,
which differs from the UTC day for anything after 21:00 local time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sandbox.core.calendar import SAO_PAULO
from sandbox.core.money import decimal_text
from sandbox.providers.ifood.records import FinancialEvent, Merchant, Order


def iso_utc(moment: datetime) -> str:
    """`2026-10-01T15:04:05.123Z`."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _number(value: Decimal) -> float:
    # json writes the shortest repr that round-trips, i.e. the Decimal's own digits (45.9 for 45.90).
    return float(value)


def merchant_json(merchant: Merchant) -> dict[str, Any]:
    return {
        "id": merchant.merchant_id,
        "shortId": merchant.short_id,
        "name": merchant.name,
        "type": "RESTAURANT",
        "timezone": str(SAO_PAULO),
        "documents": [{"value": merchant.cnpj_digits, "type": "CNPJ"}],
    }


def sale(order: Order, merchant: Merchant) -> dict[str, Any]:
    payment: dict[str, Any] = {
        "method": order.payment_method,
        "currency": "BRL",
        "type": "ONLINE",
        "value": _number(order.paid_by_customer),
        "liability": "IFOOD",
    }
    if order.card_brand and order.payment_method in ("CREDIT", "DEBIT"):
        payment["card"] = {"brand": order.card_brand}
    elif order.card_brand:
        payment["wallet"] = {"name": order.card_brand}
    benefits: list[dict[str, Any]] = []
    if order.benefit:
        benefits.append(
            {
                "target": "CART",
                "value": _number(order.benefit),
                "sponsorships": [{"name": "IFOOD", "value": _number(order.benefit)}],
            }
        )
    billing = {
        "saleBalance": _number(order.net) if order.events else None,
        "billingEntries": [{"name": e.name, "value": _number(e.amount)} for e in order.events],
    }
    return {
        "id": order.order_id,
        "shortId": order.short_id,
        "createdAt": iso_utc(order.created_at),
        "type": "ORDER",
        "category": "FOOD",
        "salesChannel": "IFOOD",
        "currentStatus": order.history[-1].full_code,
        "merchant": merchant_json(merchant),
        "saleGrossValue": {
            "bag": _number(order.bag),
            "deliveryFee": _number(order.delivery_fee),
            "serviceFee": _number(order.service_fee),
        },
        "benefits": {"totalValue": _number(order.benefit), "benefits": benefits},
        "delivery": {
            "informationProvider": {"name": "IFOOD"},
            "type": "DELIVERY",
            "deliveryParameters": {
                "logisticProvider": "IFOOD",
                "deliveryProduct": "DEFAULT",
                "code": "DEFAULT",
                "schedulingType": "IMMEDIATE",
            },
            "prices": {
                "grossValue": _number(order.delivery_fee),
                "discount": 0,
                "netValue": _number(order.delivery_fee),
            },
        },
        "payments": {"methods": [payment]},
        "orderStatusHistory": [
            {"value": s.full_code, "createdAt": iso_utc(s.at), "metadata": None} for s in order.history
        ],
        "billingSummary": billing,
        "orderEvents": [
            {"id": s.event_id, "fullCode": s.full_code, "code": s.code, "createdAt": iso_utc(s.at), "metadata": {}}
            for s in order.history
        ],
    }


def financial_event(event: FinancialEvent, merchant: Merchant) -> dict[str, Any]:
    business_date = event.business_date.isoformat()
    billing = None
    if event.base_value is not None:
        billing = {
            "baseValue": decimal_text(event.base_value),
            "feePercentage": decimal_text(event.fee_percentage or Decimal(0)),
        }
    return {
        "name": event.name,
        "description": event.description,
        "product": "IFOOD",
        "trigger": event.trigger,
        "dateTime": iso_utc(event.date_time),
        "competence": business_date[:7],
        "period": {"beginDate": business_date, "endDate": business_date},
        "reference": {"type": "ORDER", "id": event.order_id, "date": business_date},
        "hasTransferImpact": True,
        "amount": {"value": decimal_text(event.amount)},
        "billing": billing,
        "settlement": {"expectedDate": event.expected_date.isoformat()},
        "receiver": {
            "businessId": merchant.merchant_id,
            "businessType": "MERCHANT",
            "businessDocument": merchant.cnpj_digits,
        },
        "payment": {"method": event.payment_method, "brand": event.card_brand, "liability": "IFOOD"},
    }
