"""The tenants' contracts with Asaas: the fee schedule (control.fee_schedules) and transfer fees.

Asaas publishes its prices (asaas.com/precos-e-taxas); the figures here are the sandbox's contract,
in the shape of Asaas's published price table but not confirmed against it: a fixed fee per PIX and
per boleto received, and percent + fixed per card payment by installment band (1×, 2–6×, 7–12×).
Every tenant starts on the same table; the first tenant's PIX fee drops from R$ 1.99 to R$ 0.99 in
the middle of the world (a renegotiated contract), so the fee audit must pick the row valid on the
order date. An Asaas installment plan is one payment per installment, each charged its own fee:
`round(value × percent / 100 + fixed, 2)` of that installment's value, with the plan's count
choosing the band (docs/payment-reconciliation-rules.md, "Fee audit").

Transfers to another bank: PIX free, TED R$ 5.00 (`transferFee`; the sandbox's contract).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sandbox.core.money import q
from sandbox.core.payments.facts import FeeScheduleRow

CONTRACT_START = date(2015, 1, 1)
PIX_FIXED = Decimal("1.99")
PIX_FIXED_RENEGOTIATED = Decimal("0.99")
BOLETO_FIXED = Decimal("1.99")
CARD_FIXED = Decimal("0.49")
CARD_BANDS = ((1, 1, Decimal("2.99")), (2, 6, Decimal("3.49")), (7, 12, Decimal("3.99")))
TRANSFER_FEES = {"PIX": Decimal("0.00"), "TED": Decimal("5.00")}


def fee_schedule(platform: str, tenant_ids: Sequence[str], start: date, days: int) -> tuple[FeeScheduleRow, ...]:
    """Every tenant's fee rows; the first tenant's PIX fee changes on the world's middle day."""
    change = start + timedelta(days=max(1, days // 2))
    rows: list[FeeScheduleRow] = []
    for index, tenant_id in enumerate(tenant_ids):
        if index == 0:
            rows.append(
                FeeScheduleRow(
                    tenant_id,
                    platform,
                    "pix",
                    1,
                    1,
                    Decimal("0"),
                    PIX_FIXED,
                    None,
                    CONTRACT_START,
                    change - timedelta(1),
                )
            )
            rows.append(
                FeeScheduleRow(
                    tenant_id, platform, "pix", 1, 1, Decimal("0"), PIX_FIXED_RENEGOTIATED, None, change, None
                )
            )
        else:
            rows.append(
                FeeScheduleRow(tenant_id, platform, "pix", 1, 1, Decimal("0"), PIX_FIXED, None, CONTRACT_START, None)
            )
        rows.append(
            FeeScheduleRow(tenant_id, platform, "boleto", 1, 1, Decimal("0"), BOLETO_FIXED, None, CONTRACT_START, None)
        )
        for low, high, percent in CARD_BANDS:
            rows.append(
                FeeScheduleRow(tenant_id, platform, "card", low, high, percent, CARD_FIXED, None, CONTRACT_START, None)
            )
    return tuple(rows)


def contracted_fee(
    rows: Sequence[FeeScheduleRow], tenant_id: str, method: str, installments: int, day: date, value: Decimal
) -> Decimal:
    """The fee the contract says for one payment of `value` (the row valid on `day`)."""
    for row in rows:
        if row.tenant_id == tenant_id and row.covers(method, installments, day):
            return q(value * row.percent_fee / 100 + row.fixed_fee)
    raise LookupError(f"{tenant_id}: no fee row for {method} in {installments} on {day}")
