"""iFood's ground truth: each order's reconciliation status and reason, derived from the world's facts alone.

The rules are the contract in docs/reconciliation-rules.md (twelve rows, first match wins). They
read what a reconciler could observe — the order's events (text, values, expected dates), the
batch total summed from every event of the store with that expected date, iFood's `SUCCEED`
items and the bank credits they name, the iFood credits in the store's bank statement that no
item names (for batches iFood's settlements do not list), the fee of an anticipation, whether
the Sales API has the sale — and never the fate the generator intended, so a generator bug shows
up as a truth the fates did not plan rather than being copied into the expected answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sandbox.core.bank import KIND_PAYOUT, BankLedger
from sandbox.core.calendar import add_business_days
from sandbox.providers.ifood.payer import IFOOD_PAYER
from sandbox.providers.ifood.records import FinancialEvent, Merchant, Order, PayoutBatch
from sandbox.providers.ifood.rules import (
    CANCELLATION_WORDS,
    GRACE_DAYS,
    MISSING_FROM_CONCILIATION_DAYS,
    RULES,
    TOLERANCE,
)

__all__ = [
    "GRACE_DAYS",
    "MISSING_FROM_CONCILIATION_DAYS",
    "RULES",
    "TOLERANCE",
    "batch_status",
    "credits_paying_batches",
    "ground_truth",
    "is_cancellation",
    "order_status",
]


def is_cancellation(event: FinancialEvent) -> bool:
    """A reversal says so in its name or description: CANCELLATION, cancelamento, ESTORNO... any case."""
    return bool(CANCELLATION_WORDS.search(f"{event.name} {event.description}"))


def batch_status(
    total: Decimal,
    expected: date,
    credits: Iterable[tuple[date, Decimal]],
    as_of: date,
    *,
    anticipation_fee: Decimal | None = None,
    grace_days: int = GRACE_DAYS,
    tolerance: Decimal = TOLERANCE,
) -> tuple[str, str | None]:
    """Rules 6–12: the status of every order of a payout batch from its credits (date, amount).

    A credit dated on or after `as_of` is not in the bank statement yet and counts as absent.
    `anticipation_fee` is the fee of the batch's anticipation (None when not anticipated).
    """
    deadline = add_business_days(expected, grace_days)
    visible = [(day, amount) for day, amount in credits if day < as_of]
    on_time = [amount for day, amount in visible if day <= deadline]
    late = [amount for day, amount in visible if day > deadline]
    paid_on_time = sum(on_time, Decimal("0.00"))
    if on_time and abs(paid_on_time - total) <= tolerance:
        return "reconciled", None
    if anticipation_fee is not None and abs(paid_on_time - (total - anticipation_fee)) <= tolerance:
        return "divergent", "anticipation_fee"
    if late:
        return "divergent", "late_payment"
    if 0 < paid_on_time < total - tolerance and deadline >= as_of:
        return "awaiting_settlement", "partially_paid"
    if on_time:
        return "divergent", "value_mismatch"
    if deadline < as_of:
        return "divergent", "payment_missing"
    return "awaiting_settlement", "awaiting_payment"


@cache
def _conciliation_deadline(sale_date: date) -> date:
    return add_business_days(sale_date, MISSING_FROM_CONCILIATION_DAYS)


def order_expected_date(order: Order) -> date | None:
    """`E`: the latest expected date of the order's non-cancellation events (None without any)."""
    dates = [e.expected_date for e in order.events if not is_cancellation(e)]
    return max(dates) if dates else None


BatchKey = tuple[str, date]  # (merchant id, expected date E)
BankCredit = tuple[str, date, Decimal]  # (bank transaction id, posting date, amount)


def credits_paying_batches(
    batches: Sequence[PayoutBatch],
    merchants: Sequence[Merchant],
    ledgers: Mapping[str, BankLedger],
    as_of: date,
    totals: dict[BatchKey, Decimal],
    tolerance: Decimal = TOLERANCE,
) -> dict[BatchKey, list[tuple[date, Decimal]]]:
    """The visible credits that pay each batch: "Which credits pay a batch" in docs/reconciliation-rules.md.

    1. iFood's word: every `SUCCEED` item (a closing item of a listed batch's settlement for each
       credit in the statement, or the anticipation item once paid) is paid by its credit.
    2. A batch with no `SUCCEED` item takes one credit that step 1 gave to no batch, from the
       iFood credits in its store's statement: on or after E within the tolerance of T, however
       late, else on E whatever the amount; pairs taken one by one in the documented order.
    """
    paying: dict[BatchKey, list[tuple[date, Decimal]]] = {}
    given: set[str] = set()
    for batch in batches:
        listed = batch.settlement_listed or batch.anticipation is not None
        visible = [c for c in batch.credits if c.date < as_of] if listed else []
        if visible:
            paying[(batch.merchant_id, batch.expected_date)] = [(c.date, c.amount) for c in visible]
            given.update(c.transaction_id for c in visible if c.transaction_id)
    untaken: dict[str, list[BankCredit]] = {}
    for merchant in merchants:
        ledger = ledgers[merchant.account_id]
        i = ledger.kind.find(KIND_PAYOUT)
        while i >= 0:  # the store's iFood credits: payouts whose payer is iFood
            is_ifood = ledger.payouts[ledger.party[i]].payer == IFOOD_PAYER
            if is_ifood and (txn := ledger.transaction_id(i)) not in given:
                untaken.setdefault(merchant.merchant_id, []).append((txn, ledger.posting_date(i), ledger.amount_of(i)))
            i = ledger.kind.find(KIND_PAYOUT, i + 1)
    if not untaken:
        return paying
    tenant_of = {m.merchant_id: m.tenant_id for m in merchants}
    itemless = [key for key in totals if key not in paying and key[0] in untaken]

    def batch_id(key: BatchKey) -> str:
        return f"{tenant_of[key[0]]}|{key[0]}|{key[1].isoformat()}"

    def take(pairs: list[tuple[Any, ...]]) -> None:
        """Accept pairs in order unless their batch or credit is taken already (sort key first, pair last)."""
        for *_, key, credit in sorted(pairs, key=lambda pair: pair[:-2]):
            if key not in paying and credit[0] not in given:
                paying[key] = [(credit[1], credit[2])]
                given.add(credit[0])

    take(
        [
            ((day - key[1]).days, abs(amount - totals[key]), txn, batch_id(key), key, (txn, day, amount))
            for key in itemless
            for txn, day, amount in untaken[key[0]]
            if day >= key[1] and abs(amount - totals[key]) <= tolerance
        ]
    )
    take(
        [
            (abs(amount - totals[key]), txn, batch_id(key), key, (txn, day, amount))
            for key in itemless
            if key not in paying
            for txn, day, amount in untaken[key[0]]
            if day == key[1] and txn not in given
        ]
    )
    return paying


def order_status(
    order: Order,
    totals: dict[BatchKey, Decimal],
    batches: dict[BatchKey, PayoutBatch],
    as_of: date,
    cache: dict[BatchKey, tuple[str, str | None]] | None = None,
    paying: dict[BatchKey, list[tuple[date, Decimal]]] | None = None,
) -> tuple[str, str | None]:
    """The twelve rules of docs/reconciliation-rules.md for one order, first match wins.

    Rules 6–12 depend on the batch only; `cache` keeps their answer per batch. `paying` holds the
    credits that pay each batch (credits_paying_batches); without it, a batch's own credits.
    """
    cancellations = [e for e in order.events if is_cancellation(e)]
    expected = order_expected_date(order)
    if cancellations:
        if expected is not None and any(e.expected_date > expected for e in cancellations):
            return "cancelled", "refund_after_payment"
        return "cancelled", "cancellation_event"
    if not order.events:  # a sale without events has no report line either: lines are events
        if _conciliation_deadline(order.business_date) < as_of:
            return "sales_only", "missing_from_conciliation"
        return "sales_only", "no_financial_events"
    if not order.has_sale:
        return "divergent", "orphan_financial_event"
    assert expected is not None
    key = (order.merchant_id, expected)
    if cache is not None and key in cache:
        return cache[key]
    batch = batches.get(key)
    if paying is not None:
        credits = paying.get(key, [])
    else:
        credits = [(c.date, c.amount) for c in batch.credits] if batch else []
    fee = batch.anticipation.fee if batch and batch.anticipation else None
    answer = batch_status(totals[key], expected, credits, as_of, anticipation_fee=fee)
    if cache is not None:
        cache[key] = answer
    return answer


def batch_totals(orders: Iterable[Order]) -> dict[tuple[str, date], Decimal]:
    """`T` per (merchant, expected date): the sum of every event with that expected date (all have transfer impact)."""
    totals: dict[tuple[str, date], Decimal] = {}
    for order in orders:
        for event in order.events:
            key = (event.merchant_id, event.expected_date)
            totals[key] = totals.get(key, Decimal("0.00")) + event.amount
    return totals


def ground_truth(
    orders: Sequence[Order],
    batches: Sequence[PayoutBatch],
    merchants: Sequence[Merchant],
    ledgers: Mapping[str, BankLedger],
    as_of: date,
) -> Iterator[dict[str, Any]]:
    """Rows `{tenant_id, merchant_id, order_id, status, reason}` in the world's order order.

    `ledgers` are the stores' bank statements (by account id): a batch iFood's settlements do not
    list is paid, if at all, by one of the store's iFood credits no listed item took.
    """
    totals = batch_totals(orders)
    by_key = {(b.merchant_id, b.expected_date): b for b in batches}
    paying = credits_paying_batches(batches, merchants, ledgers, as_of, totals)
    cache: dict[BatchKey, tuple[str, str | None]] = {}
    for order in orders:
        status, reason = order_status(order, totals, by_key, as_of, cache, paying)
        yield {
            "tenant_id": order.tenant_id,
            "merchant_id": order.merchant_id,
            "order_id": order.order_id,
            "status": status,
            "reason": reason,
        }
