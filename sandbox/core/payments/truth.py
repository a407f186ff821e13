"""The ground truth of the gateways, written from docs/payment-reconciliation-rules.md alone.

One row per payment: its canonical values, the split model and the gateway's reported part, the
fee audit, and its reconciliation status, reason and rule number, computed from the generic facts
a gateway's generator states (`sandbox.core.payments.facts`). The section names below are the
document's; nothing here reads a dbt model or the benchmark floor.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import combinations
from typing import Any

from sandbox.core.calendar import SAO_PAULO, add_business_days, business_days_between
from sandbox.core.payments.checkout import AFFILIATE_RATE, PLATFORM_FEE_RATE, SplitRate
from sandbox.core.payments.facts import CreditFacts, FeeScheduleRow, PaymentFacts, PayoutFacts, Tolerances

CENT = Decimal("0.01")
TOOK_MONEY = frozenset({"paid", "refunded", "charged_back"})
WITHHELD_PARTS = ("platform_fee", "affiliate_commission")

TRUTH_COLUMNS = (
    "platform",
    "tenant_id",
    "integration",
    "payment_id",
    "order_id",
    "method",
    "installments",
    "payment_status",
    "gross_amount",
    "fee_amount",
    "split_withheld_amount",
    "net_amount",
    "expected_release_date",
    "payout_id",
    "payout_amount",
    "payout_date",
    "payout_deadline",
    "bank_transaction_id",
    "bank_credit_date",
    "status",
    "reason",
    "rule",
    "days_late",
    "platform_fee",
    "affiliate_commission",
    "producer_amount",
    "split_difference",
    "split_mismatch",
    "contracted_fee",
    "fee_difference",
    "overcharge_amount",
    "fee_status",
)


def round_cents(value: Decimal) -> Decimal:
    """`round(x, 2)`, half up: the document's one rounding rule."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------------------------- payouts


@dataclass(frozen=True, slots=True)
class PayoutVerdict:
    """What "Matching payouts to bank credits" concludes for one payout."""

    kind: str  # matched | ambiguous | split | short | missing | in_transit
    credit: CreditFacts | None = None  # the matched credit
    late: bool = False
    deadline: date | None = None


def match_payouts(
    payouts: Sequence[PayoutFacts], credits: Sequence[CreditFacts], *, as_of: date, tolerances: Tolerances
) -> dict[str, PayoutVerdict]:
    """Every payout's verdict, by payout id (steps 1–3 of "Matching payouts to bank credits")."""
    tol = tolerances.value_tolerance
    visible = [c for c in credits if c.date < as_of]
    verdicts: dict[str, PayoutVerdict] = {}
    deadline = {x.payout_id: add_business_days(x.date, tolerances.grace_days) for x in payouts}
    open_payouts = []
    for x in payouts:
        if x.date >= as_of:
            verdicts[x.payout_id] = PayoutVerdict("in_transit", deadline=deadline[x.payout_id])
        else:
            open_payouts.append(x)

    # Step 1: exact, same day, groups of interchangeable payouts and credits.
    def group(account: str, platform: str, day: date, amount: Decimal) -> tuple[str, str, date, Decimal]:
        return (account, platform, day, round_cents(amount))

    credits_by_group: dict[tuple, list[CreditFacts]] = defaultdict(list)
    for c in visible:
        credits_by_group[group(c.bank_account_id, c.platform, c.date, c.amount)].append(c)
    payouts_by_group: dict[tuple, list[PayoutFacts]] = defaultdict(list)
    for x in open_payouts:
        payouts_by_group[group(x.bank_account_id, x.platform, x.date, x.amount)].append(x)
    taken: set[str] = set()
    left: list[PayoutFacts] = []
    for key, members in payouts_by_group.items():
        found = credits_by_group.get(key, [])
        if not found:
            left.extend(members)
            continue
        taken.update(c.transaction_id for c in found)
        if len(found) == len(members):
            pairs = zip(
                sorted(members, key=lambda x: x.payout_id), sorted(found, key=lambda c: c.transaction_id), strict=True
            )
            for x, c in pairs:
                verdicts[x.payout_id] = PayoutVerdict("matched", c, False, deadline[x.payout_id])
        else:
            for x in members:
                verdicts[x.payout_id] = PayoutVerdict("ambiguous", deadline=deadline[x.payout_id])

    # Step 2: within tolerance, on or after D, chosen uniquely by both sides.
    free = [c for c in visible if c.transaction_id not in taken]
    candidates: dict[str, list[CreditFacts]] = {}
    claims: dict[str, int] = defaultdict(int)
    for x in left:
        found = [
            c
            for c in free
            if c.bank_account_id == x.bank_account_id
            and c.platform == x.platform
            and c.date >= x.date
            and abs(c.amount - x.amount) <= tol
        ]
        candidates[x.payout_id] = found
        for c in found:
            claims[c.transaction_id] += 1
    for found in candidates.values():
        taken.update(c.transaction_id for c in found)
    no_candidate = []
    for x in left:
        found = candidates[x.payout_id]
        if len(found) == 1 and claims[found[0].transaction_id] == 1:
            c = found[0]
            verdicts[x.payout_id] = PayoutVerdict("matched", c, c.date > deadline[x.payout_id], deadline[x.payout_id])
        elif found:
            verdicts[x.payout_id] = PayoutVerdict("ambiguous", deadline=deadline[x.payout_id])
        else:
            no_candidate.append(x)

    # Step 3: no candidate: split over two credits, a short credit on D, missing, or still in transit.
    free = [c for c in visible if c.transaction_id not in taken]
    for x in no_candidate:
        last = deadline[x.payout_id]
        own = [c for c in free if c.bank_account_id == x.bank_account_id and c.platform == x.platform]
        window = [c for c in own if x.date <= c.date <= last]
        if any(abs(a.amount + b.amount - x.amount) <= tol for a, b in combinations(window, 2)):
            kind = "split"
        elif any(c.date == x.date for c in own):
            kind = "short"
        elif last < as_of:
            kind = "missing"
        else:
            kind = "in_transit"
        verdicts[x.payout_id] = PayoutVerdict(kind, deadline=last)
    return verdicts


# ------------------------------------------------------------------------------------- payments


def _payment_date(p: PaymentFacts) -> date:
    when = p.paid_at or p.order.created_at
    return when.astimezone(SAO_PAULO).date()


def _status(
    p: PaymentFacts, payout: PayoutFacts | None, verdict: PayoutVerdict | None, *, as_of: date, grace: int
) -> tuple[str, str | None, int]:
    """(status, reason, rule) by the first matching row of "Status and reason of a payment"."""
    if p.status in ("failed", "expired"):
        return "RECONCILED", "nothing_due", 1
    if p.status == "pending":
        return "PENDING", "awaiting_payment", 2
    if p.status == "charged_back":
        return "DISCREPANCY", "chargeback", 3
    if p.status == "refunded":
        if (
            payout is not None
            and p.refunded_at is not None
            and p.refunded_at.astimezone(SAO_PAULO).date() > payout.date
        ):
            return "DISCREPANCY", "refunded_after_payout", 4
        return "RECONCILED", "refunded", 5
    if p.status != "paid":
        raise ValueError(f"{p.platform} payment {p.payment_id}: unknown canonical status {p.status!r}")
    if payout is None:
        if p.expected_release is None:
            raise ValueError(f"{p.platform} payment {p.payment_id} is paid but has no expected release date")
        if p.expected_release >= as_of:
            return "PENDING", "awaiting_release", 6
        if add_business_days(p.expected_release, grace) >= as_of:
            return "PENDING", "awaiting_payout", 7
        return "DISCREPANCY", "not_paid_out", 8
    assert verdict is not None
    if verdict.kind == "matched" and not verdict.late:
        return "RECONCILED", None, 9
    if verdict.kind == "ambiguous":
        return "MANUAL_REVIEW", "ambiguous_credit", 10
    if verdict.kind == "split":
        return "MANUAL_REVIEW", "split_credit", 11
    if verdict.kind == "matched":
        return "DISCREPANCY", "late_payout", 12
    if verdict.kind == "short":
        return "DISCREPANCY", "amount_mismatch", 13
    if verdict.kind == "missing":
        return "DISCREPANCY", "payout_missing", 14
    return "PENDING", "awaiting_payout", 15


def split_rate(
    rates: Sequence[SplitRate], tenant_id: str, product_id: str | None, day: date
) -> tuple[Decimal, Decimal]:
    """(platform_fee_rate, affiliate_rate) from the product's row, else the tenant's, else the defaults."""
    for wanted in ((product_id,) if product_id is not None else ()) + (None,):
        for r in rates:
            if r.tenant_id == tenant_id and r.product_id == wanted and r.covers(day):
                return r.platform_fee_rate, r.affiliate_rate
    return PLATFORM_FEE_RATE, AFFILIATE_RATE


def split_parts(
    gross: Decimal, platform_rate: Decimal, affiliate_rate: Decimal, has_affiliate: bool
) -> tuple[Decimal, Decimal, Decimal]:
    """(platform fee, affiliate commission, producer amount): the proportional model; sums to gross."""
    platform_fee = round_cents(gross * platform_rate)
    affiliate = round_cents((gross - platform_fee) * affiliate_rate) if has_affiliate else Decimal("0.00")
    return platform_fee, affiliate, gross - platform_fee - affiliate


def contracted_fee(schedules: Sequence[FeeScheduleRow], p: PaymentFacts, day: date) -> Decimal | None:
    for row in schedules:
        if row.tenant_id == p.tenant_id and row.platform == p.platform and row.covers(p.method, p.installments, day):
            return round_cents(p.gross * row.percent_fee / 100 + row.fixed_fee)
    return None


def payment_truth(
    payments: Sequence[PaymentFacts],
    payouts: Sequence[PayoutFacts],
    credits: Sequence[CreditFacts],
    *,
    as_of: date,
    tolerances: Tolerances,
    split_rates: Sequence[SplitRate],
    fee_schedules: Sequence[FeeScheduleRow],
    withheld_part: str = "platform_fee",
) -> list[dict[str, Any]]:
    """One ground-truth row per payment (columns `TRUTH_COLUMNS`).

    `withheld_part` is the model's part the gateway's withheld split is compared with ("Splits",
    gateway-reported): the platform fee or the affiliate commission.
    """
    if withheld_part not in WITHHELD_PARTS:
        raise ValueError(f"withheld_part must be one of {WITHHELD_PARTS}, got {withheld_part!r}")
    verdicts = match_payouts(payouts, credits, as_of=as_of, tolerances=tolerances)
    by_id: Mapping[str, PayoutFacts] = {x.payout_id: x for x in payouts}
    rows = []
    for p in payments:
        payout = by_id.get(p.payout_id) if p.payout_id is not None else None
        if p.payout_id is not None and payout is None:
            raise ValueError(f"{p.platform} payment {p.payment_id} names payout {p.payout_id}, which is not stated")
        verdict = verdicts.get(payout.payout_id) if payout is not None else None
        status, reason, rule = _status(p, payout, verdict, as_of=as_of, grace=tolerances.grace_days)
        took_money = p.status in TOOK_MONEY  # else nothing was charged, kept or withheld: amounts 0
        zero = Decimal("0.00")
        credit = verdict.credit if verdict is not None and verdict.kind == "matched" else None
        row: dict[str, Any] = {
            "platform": p.platform,
            "tenant_id": p.tenant_id,
            "integration": p.integration,
            "payment_id": p.payment_id,
            "order_id": p.order.order_id,
            "method": p.method,
            "installments": p.installments,
            "payment_status": p.status,
            "gross_amount": p.gross,
            "fee_amount": p.fee if took_money else zero,
            "split_withheld_amount": p.split_withheld if took_money else zero,
            "net_amount": p.net if took_money else zero,
            "expected_release_date": p.expected_release,
            "payout_id": p.payout_id,
            "payout_amount": payout.amount if payout else None,
            "payout_date": payout.date if payout else None,
            "payout_deadline": verdict.deadline if verdict else None,
            "bank_transaction_id": credit.transaction_id if credit else None,
            "bank_credit_date": credit.date if credit else None,
            "status": status,
            "reason": reason,
            "rule": rule,
            "days_late": business_days_between(payout.date, credit.date) if credit and verdict.late else None,
        }
        row.update(_split_and_fee(p, split_rates, fee_schedules, tolerances, withheld_part))
        rows.append(row)
    return rows


def _split_and_fee(
    p: PaymentFacts,
    split_rates: Sequence[SplitRate],
    fee_schedules: Sequence[FeeScheduleRow],
    tolerances: Tolerances,
    withheld_part: str,
) -> dict[str, Any]:
    empty = dict.fromkeys(
        (
            "platform_fee",
            "affiliate_commission",
            "producer_amount",
            "split_difference",
            "split_mismatch",
            "contracted_fee",
            "fee_difference",
            "overcharge_amount",
            "fee_status",
        )
    )
    if p.status not in TOOK_MONEY:
        return empty
    day = _payment_date(p)
    platform_rate, affiliate_rate = split_rate(split_rates, p.tenant_id, p.order.product_id, day)
    platform_fee, affiliate, producer = split_parts(
        p.gross, platform_rate, affiliate_rate, p.order.affiliate_id is not None
    )
    model = platform_fee if withheld_part == "platform_fee" else affiliate
    difference = p.split_withheld - model if p.split_withheld != 0 else None
    contracted = contracted_fee(fee_schedules, p, day)
    fee_difference = p.fee - contracted if contracted is not None else None
    overcharged = fee_difference is not None and fee_difference > tolerances.fee_tolerance
    return {
        "platform_fee": platform_fee,
        "affiliate_commission": affiliate,
        "producer_amount": producer,
        "split_difference": difference,
        "split_mismatch": difference is not None and abs(difference) > tolerances.split_tolerance,
        "contracted_fee": contracted,
        "fee_difference": fee_difference,
        "overcharge_amount": fee_difference if overcharged else Decimal("0.00") if contracted is not None else None,
        "fee_status": "no_contract" if contracted is None else "overcharged" if overcharged else "ok",
    }


# ------------------------------------------------------------------------- sales platforms

# The rules' "Sales platforms" section: every column above, then the readings and the commissions by role.
SALES_TRUTH_COLUMNS = (
    *TRUTH_COLUMNS,
    "subscription_id",
    "coproducer_commission",  # the model's (the split model's part, like affiliate_commission)
    "reported_affiliate_commission",
    "reported_coproducer_commission",
    "stated_net_amount",
    "affiliate_difference",
    "coproducer_difference",
    "producer_difference",
)
PAYOUT_RULES = ("daily_deposit", "payout_by_date")


def _day(moment) -> date:
    return moment.astimezone(SAO_PAULO).date()


def released(p: PaymentFacts, as_of: date) -> bool:
    """A sale the platform paid out ("a sale's payout"): it took money, its `R` is before as-of, and
    it was not refunded or charged back on or before `R` (`refunded_at` holds either)."""
    if p.status not in TOOK_MONEY or p.expected_release is None or p.expected_release >= as_of:
        return False
    return p.refunded_at is None or _day(p.refunded_at) > p.expected_release


def daily_deposits(payments: Sequence[PaymentFacts], *, as_of: date) -> tuple[list[PayoutFacts], dict[str, str]]:
    """The daily-deposit rule (a platform with no payout API): one deposit per integration and release day `R` with released sales, id
    `platform:integration:R`, `A` = Σ net of the sales released on `R` − Σ net of the sales refunded
    or charged back on `R` that were released before it, `D` = `R`. Returns the deposits and each
    released sale's deposit id (by payment id)."""
    sums: dict[tuple[str, str, str, str, date], Decimal] = {}
    assigned: dict[str, str] = {}
    for p in payments:
        if released(p, as_of):
            key = (p.platform, p.tenant_id, p.integration, p.bank_account_id, p.expected_release)  # type: ignore[arg-type]
            sums[key] = sums.get(key, Decimal("0")) + p.net
            assigned[p.payment_id] = f"{p.platform}:{p.integration}:{p.expected_release.isoformat()}"  # type: ignore[union-attr]
    for p in payments:
        if released(p, as_of) and p.refunded_at is not None:
            key = (p.platform, p.tenant_id, p.integration, p.bank_account_id, _day(p.refunded_at))
            if key in sums:  # a debit on a day without releases has no deposit to shrink
                sums[key] -= p.net
    deposits = [
        PayoutFacts(platform, tenant, integration, account, f"{platform}:{integration}:{day.isoformat()}", amount, day)
        for (platform, tenant, integration, account, day), amount in sorted(sums.items(), key=lambda kv: kv[0])
    ]
    return deposits, assigned


def payouts_by_date(payments: Sequence[PaymentFacts], payouts: Sequence[PayoutFacts], *, as_of: date) -> dict[str, str]:
    """The payout-by-date rule (a platform listing its payouts, not their sales): a released sale's
    payout is its integration's first payout dated on or after `R` (the platform's payouts are
    withdrawals: a daily one is the payout dated `R`, a hand-made one takes what was released since
    the last); none when there is none yet. Several on one date: the first by id (the sandbox makes
    one a day). Returns payout ids by payment id."""
    dated: dict[tuple[str, str], list[tuple[date, str]]] = {}
    for x in payouts:
        dated.setdefault((x.platform, x.integration), []).append((x.date, x.payout_id))
    for days in dated.values():
        days.sort()
    assigned = {}
    for p in payments:
        if released(p, as_of):
            days = dated.get((p.platform, p.integration), [])
            i = bisect.bisect_left(days, (p.expected_release, ""))
            if i < len(days):
                assigned[p.payment_id] = days[i][1]
    return assigned


def _rate_row(rates: Sequence[SplitRate], tenant_id: str, product_id: str | None, day: date) -> SplitRate | None:
    for wanted in ((product_id,) if product_id is not None else ()) + (None,):
        for r in rates:
            if r.tenant_id == tenant_id and r.product_id == wanted and r.covers(day):
                return r
    return None


def commissions_by_role(p: PaymentFacts, rates: Sequence[SplitRate], tolerances: Tolerances) -> dict[str, Any]:
    """ "Commissions by role": the platform's fee first, then the affiliate's, the co-producer's and
    the producer's parts of the model, and the reported commissions compared role by role."""
    keys = (
        "platform_fee",
        "affiliate_commission",
        "coproducer_commission",
        "producer_amount",
        "split_difference",
        "split_mismatch",
        "reported_affiliate_commission",
        "reported_coproducer_commission",
        "stated_net_amount",
        "affiliate_difference",
        "coproducer_difference",
        "producer_difference",
    )
    if p.status not in TOOK_MONEY:
        return dict.fromkeys(keys)
    row = _rate_row(rates, p.tenant_id, p.order.product_id, _payment_date(p))
    affiliate_rate = row.affiliate_rate if row is not None else AFFILIATE_RATE
    coproducer_rate = row.coproducer_rate if row is not None else Decimal("0")
    base = p.gross - p.fee
    affiliate = round_cents(base * affiliate_rate) if p.order.affiliate_id is not None else Decimal("0.00")
    coproducer = round_cents((base - affiliate) * coproducer_rate)
    producer = base - affiliate - coproducer
    reported_affiliate = p.affiliate_commission if p.affiliate_commission is not None else Decimal("0.00")
    reported_coproducer = p.coproducer_commission if p.coproducer_commission is not None else Decimal("0.00")
    stated = p.stated_net if p.stated_net is not None else p.net
    differences = (reported_affiliate - affiliate, reported_coproducer - coproducer, stated - producer)
    return {
        "platform_fee": p.fee,
        "affiliate_commission": affiliate,
        "coproducer_commission": coproducer,
        "producer_amount": producer,
        "split_difference": p.split_withheld - affiliate - coproducer,
        "split_mismatch": any(abs(d) > tolerances.split_tolerance for d in differences),
        "reported_affiliate_commission": reported_affiliate,
        "reported_coproducer_commission": reported_coproducer,
        "stated_net_amount": stated,
        "affiliate_difference": differences[0],
        "coproducer_difference": differences[1],
        "producer_difference": differences[2],
    }


def sales_truth(
    payments: Sequence[PaymentFacts],
    payouts: Sequence[PayoutFacts],
    credits: Sequence[CreditFacts],
    *,
    as_of: date,
    tolerances: Tolerances,
    split_rates: Sequence[SplitRate],
    fee_schedules: Sequence[FeeScheduleRow],
    payout_rule: str,
) -> list[dict[str, Any]]:
    """One ground-truth row per sale of a sales platform (columns `SALES_TRUTH_COLUMNS`).

    The payouts follow the platform's rule, recomputed here from the sales: `daily_deposit` (the
    deposits are the rule's, whatever `payouts` says) or `payout_by_date` (the platform's stated
    payouts, each sale given the one dated its `R`). The rest is the gateways' truth (statuses,
    matching, fee audit) with the split replaced by the commissions by role.
    """
    if payout_rule == "daily_deposit":
        payouts, assigned = daily_deposits(payments, as_of=as_of)
    elif payout_rule == "payout_by_date":
        assigned = payouts_by_date(payments, payouts, as_of=as_of)
    else:
        raise ValueError(f"payout_rule must be one of {PAYOUT_RULES}, got {payout_rule!r}")
    placed = [replace(p, payout_id=assigned.get(p.payment_id)) for p in payments]
    rows = payment_truth(
        placed,
        payouts,
        credits,
        as_of=as_of,
        tolerances=tolerances,
        split_rates=split_rates,
        fee_schedules=fee_schedules,
    )
    out = []
    for p, row in zip(placed, rows, strict=True):
        row.update(commissions_by_role(p, split_rates, tolerances))
        row["subscription_id"] = p.subscription_id
        out.append({column: row[column] for column in SALES_TRUTH_COLUMNS})
    return out
