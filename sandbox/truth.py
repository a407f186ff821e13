"""Ground truth: each order's reconciliation status, derived from the world's facts alone.

The rules are the table in docs/sandbox-world.md. They read what a reconciler could observe —
the order's events (text and values), the batch total, the date and amount of the bank credit
that pays the batch and whether it is visible before `as_of` — and never the fate the generator
intended, so a generator bug shows up as a truth the fates did not plan rather than being
copied into the expected answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.world import FinancialEvent, Order, PayoutBatch, World

GRACE_DAYS = 3  # days after the expected date a payment may still arrive and count as on time
TOLERANCE = Decimal("0.10")  # |paid - expected| up to this counts as paid in full
CANCELLATION_WORDS = re.compile(r"cancel|estorno", re.IGNORECASE)


def is_cancellation(event: FinancialEvent) -> bool:
    """A reversal says so in its name or description: CANCELLATION, cancelamento, ESTORNO... any case."""
    return bool(CANCELLATION_WORDS.search(f"{event.name} {event.description}"))


def batch_status(
    total: Decimal, expected: date, credit_date: date | None, credit_amount: Decimal | None, as_of: date
) -> tuple[str, str | None]:
    """Status and reason of every order of a payout batch, from its credit (if any) and the dates.

    A credit dated on or after `as_of` is not in the bank statement yet, so it counts as absent.
    Within the grace period the amount decides (reconciled / value_mismatch); a credit dated
    later than the grace period is a late payment.
    """
    visible = credit_date is not None and credit_amount is not None and credit_date < as_of
    if visible:
        assert credit_date is not None and credit_amount is not None
        if (credit_date - expected).days <= GRACE_DAYS:
            if abs(credit_amount - total) <= TOLERANCE:
                return "reconciled", None
            return "divergent", "value_mismatch"
        return "divergent", "late_payment"
    if (as_of - expected).days > GRACE_DAYS:
        return "divergent", "payment_missing"
    return "awaiting_settlement", "awaiting_payment"


def ground_truth(world: World) -> Iterator[dict[str, Any]]:
    """Rows `{tenant_id, merchant_id, order_id, status, reason}` in the world's order order."""
    batch_of: dict[tuple[str, date], PayoutBatch] = {(b.merchant_id, b.expected_date): b for b in world.batches}
    for order in world.orders:
        status, reason = _order_status(order, batch_of, world.as_of)
        yield {
            "tenant_id": order.tenant_id,
            "merchant_id": order.merchant_id,
            "order_id": order.order_id,
            "status": status,
            "reason": reason,
        }


def _order_status(order: Order, batch_of: dict[tuple[str, date], PayoutBatch], as_of: date) -> tuple[str, str | None]:
    if any(is_cancellation(e) for e in order.events):
        return "cancelled", "cancellation_event"
    if not order.events:
        return "sales_only", "no_financial_events"
    expected = order.events[0].expected_date
    batch = batch_of[(order.merchant_id, expected)]
    return batch_status(batch.total, expected, batch.credit_date, batch.credit_amount, as_of)
