"""The tenants' fee contracts with Mercado Pago (control.fee_schedules rows), and the fee of a payment.

Mercado Pago prices online sales by method and, for credit cards, by how soon the money is
released (its "taxas e prazos": on approval, in 14 or in 30 days) and by installments the seller
absorbs ("parcelado sem juros"). The sandbox's contract, per tenant (percent of the gross, no
fixed fee; its figures are modelled on MP's published online rates and are the sandbox's contract,
not a quote):

| method | installments | percent |
|---|---|---|
| pix | 1 | 0.99 |
| card | 1 | by release term: 3.99 (30 days), 4.49 (14), 4.98 (at once) |
| card | 2–6 | the 1x rate + 0.60 |
| card | 7–12 | the 1x rate + 1.20 |

The first tenant renegotiated its card rates in the middle of the world: every card row is cut at
the change day (valid to the day before) and followed by a row 0.20 points lower, so the fee audit
must pick the row valid on the order date. Mercado Pago reports each payment's fee
(`fee_details[]` of type `mercadopago_fee`), so `release_days` is null.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sandbox.core.money import q
from sandbox.core.payments.facts import FeeScheduleRow
from sandbox.providers.mercadopago import NAME
from sandbox.providers.mercadopago.knobs import MercadoPagoKnobs

PIX_RATE = Decimal("0.99")
CARD_BANDS = ((1, 1, Decimal("0.00")), (2, 6, Decimal("0.60")), (7, 12, Decimal("1.20")))
RENEGOTIATED_BY = Decimal("0.20")
CONTRACT_DAYS_BEFORE = 365  # the contracts start a year before the world


def change_day(knobs: MercadoPagoKnobs) -> date:
    """The day the renegotiated rates start (the middle of the world, as the checkout's split change)."""
    return knobs.start + timedelta(days=max(1, knobs.days // 2))


def fee_schedule(tenant_id: str, knobs: MercadoPagoKnobs, *, renegotiated: bool) -> tuple[FeeScheduleRow, ...]:
    """The tenant's Mercado Pago fee rows, in (method, installments, validity) order."""
    since = knobs.start - timedelta(days=CONTRACT_DAYS_BEFORE)
    change = change_day(knobs)
    base = knobs.mercadopago_card_rate
    rows = [FeeScheduleRow(tenant_id, NAME, "pix", 1, 1, PIX_RATE, Decimal("0.00"), None, since, None)]
    for low, high, extra in CARD_BANDS:
        percent = base + extra
        if renegotiated:
            rows.append(
                FeeScheduleRow(
                    tenant_id,
                    NAME,
                    "card",
                    low,
                    high,
                    percent,
                    Decimal("0.00"),
                    None,
                    since,
                    change - timedelta(days=1),
                )
            )
            rows.append(
                FeeScheduleRow(
                    tenant_id, NAME, "card", low, high, percent - RENEGOTIATED_BY, Decimal("0.00"), None, change, None
                )
            )
        else:
            rows.append(FeeScheduleRow(tenant_id, NAME, "card", low, high, percent, Decimal("0.00"), None, since, None))
    return tuple(rows)


def contracted_fee(
    rows: tuple[FeeScheduleRow, ...], method: str, installments: int, day: date, gross: Decimal
) -> Decimal:
    """round(gross × percent / 100 + fixed, 2) of the row valid on `day` (the rules' fee audit)."""
    for row in rows:
        if row.covers(method, installments, day):
            return q(gross * row.percent_fee / 100 + row.fixed_fee)
    raise LookupError(f"{NAME}: no fee row covers {method} {installments}x on {day}")
