"""iFood's payouts: orders grouped into payout batches, each batch's fate, the credits that pay it.

A batch is every event of one merchant with one expected date `E`. Its fate (on time, late,
anticipated, paid in two parts, unlisted, …) is handed out by quota, most constrained first, only
to batches whose outcome is visible by `as_of` (docs/sandbox-world.md, "How the mix is
guaranteed"); the fate gives the credits (date, amount) iFood pays. `PayoutPlans` turns those
into planned bank credits (payer: iFood) and, once the bank has posted them, into `PayoutBatch`
facts that know their bank transactions.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from sandbox.core.bank import PlannedCredit
from sandbox.core.calendar import add_business_days
from sandbox.core.money import from_cents, q
from sandbox.core.streams import stream
from sandbox.providers.ifood.knobs import IfoodKnobs
from sandbox.providers.ifood.payer import IFOOD_PAYER
from sandbox.providers.ifood.records import Anticipation, Credit, Fate, Merchant, Order, PayoutBatch
from sandbox.providers.ifood.rules import GRACE_DAYS, TOLERANCE

# Below these sizes the quota floors (at least one batch per reason) are not applied: forcing a
# divergent batch into a world of five batches would make it mostly divergent.
MIN_BATCHES_FOR_COVERAGE = 40
MIN_BATCHES_FOR_VARIANTS = 20
RECONCILED_VARIANT_RATE = 0.05  # share of batches paid a few cents off / a day or three late (still reconciled)
VERY_LATE_DAYS = 14  # business days after E an unlisted batch's credit arrives (fate very_late) ...
VERY_LATE_MIN_DAYS = 10  # ... or fewer, down to this, when as_of comes first (10 business days ≥ 14 calendar days)
# Unlisted batches may have these fates: one credit at most, so the amount and expected-date rules can find it.
UNLISTED_FATES = ("on_time", "within_tolerance", "slightly_late", "late", "wrong_amount", "never_paid")


BatchKey = tuple[str, date]  # (merchant id, expected date E)


class PayoutPlans:
    """Every payable batch of a world's orders with its fate and planned credits, before the bank posts them."""

    def __init__(self, config: IfoodKnobs, merchants: Sequence[Merchant], orders: Sequence[Order]) -> None:
        """Group events into batches and decide each batch's fate by quota (streams "fates", "payout-amounts")."""
        totals: dict[BatchKey, Decimal] = {}
        spans: dict[BatchKey, tuple[date, date]] = {}
        members: dict[BatchKey, list[str]] = {}
        payable: set[BatchKey] = set()
        for order in orders:
            if not order.events:
                continue
            own = (order.merchant_id, order.expected_date)
            members.setdefault(own, []).append(order.order_id)
            if order.kind != "cancelled":
                payable.add(own)
            for event in order.events:
                key = (event.merchant_id, event.expected_date)
                totals[key] = totals.get(key, Decimal("0.00")) + event.amount
                first, last = spans.get(key, (event.business_date, event.business_date))
                spans[key] = (min(first, event.business_date), max(last, event.business_date))
        self.merchant_by_id = {m.merchant_id: m for m in merchants}
        rank = {m.merchant_id: i for i, m in enumerate(merchants)}
        self.keys = sorted(payable, key=lambda k: (rank[k[0]], k[1]))
        self.totals, self.spans, self.members = totals, spans, members
        self.plans = _plan_payouts(
            self.keys,
            totals,
            spans,
            {m.merchant_id: m.anticipation_fee_rate for m in merchants},
            config.as_of,
            config,
            stream(config.seed, "fates"),
            stream(config.seed, "payout-amounts"),
        )
        self._credits: dict[tuple[BatchKey, int], PlannedCredit] = {}
        for key, plan in self.plans.items():
            merchant_id, expected = key
            account_id = self.merchant_by_id[merchant_id].account_id
            for part, (day, amount) in enumerate(plan.credits):
                self._credits[(key, part)] = PlannedCredit(
                    payer=IFOOD_PAYER,
                    account_id=account_id,
                    posting_date=day,
                    cents=int(amount * 100),
                    payout=f"{merchant_id}|{expected.isoformat()}",
                    part=part,
                )

    def planned_credits(self) -> list[PlannedCredit]:
        """Every credit iFood plans, batch by batch (merchant, then E), parts in order."""
        return list(self._credits.values())

    def batches(self, posted: Mapping[PlannedCredit, str]) -> tuple[PayoutBatch, ...]:
        """The payout batches as facts, each credit with its bank transaction id when the bank posted it."""
        batches = []
        for key in self.keys:
            merchant_id, expected = key
            plan = self.plans[key]
            merchant = self.merchant_by_id[merchant_id]
            batches.append(
                PayoutBatch(
                    tenant_id=merchant.tenant_id,
                    merchant_id=merchant_id,
                    account_id=merchant.account_id,
                    expected_date=expected,
                    first_sale_date=self.spans[key][0],
                    last_sale_date=self.spans[key][1],
                    order_ids=tuple(self.members[key]),
                    total=self.totals[key],
                    fate=plan.fate,
                    credits=tuple(
                        Credit(day, amount, posted.get(self._credits[(key, part)]))
                        for part, (day, amount) in enumerate(plan.credits)
                    ),
                    anticipation=plan.anticipation,
                    settlement_listed=plan.listed,
                )
            )
        return tuple(batches)


@dataclass(frozen=True, slots=True)
class _Plan:
    fate: Fate
    credits: tuple[tuple[date, Decimal], ...]
    anticipation: Anticipation | None = None
    listed: bool = True


# Fates in the order they are handed out: the most constrained first, so a small world still
# finds a batch for each. "slightly_late_gap" is a slightly-late batch whose credit is within the
# grace period in business days but more than GRACE_DAYS calendar days after E (a weekend or a
# holiday in between), so calendar-day arithmetic would call it late. "very_late" is an unlisted
# batch (its settlement is not in iFood's settlements API) paid exactly, VERY_LATE_DAYS business days
# after E or as close to that as the world allows (at least VERY_LATE_MIN_DAYS): only the bank
# shows the payment, and it is late_payment however late.
_FATE_ORDER = (
    "very_late",
    "late",
    "never_paid",
    "partial_late",
    "partial_pending",
    "slightly_late_gap",
    "anticipated",
    "partial",
    "wrong_amount",
    "within_tolerance",
    "slightly_late",
)


def _plan_payouts(
    keys: list[tuple[str, date]],
    totals: dict[tuple[str, date], Decimal],
    spans: dict[tuple[str, date], tuple[date, date]],
    fee_rates: dict[str, Decimal],
    as_of: date,
    cfg: IfoodKnobs,
    rng: random.Random,
    amounts: random.Random,
) -> dict[tuple[str, date], _Plan]:
    """Decide how each batch gets paid and the credits (date, amount) that result.

    Fates that produce a reason only go to batches where the reason is visible by `as_of` (a
    late credit must post before `as_of`, a missing one must be past the deadline, a partial
    payment still awaiting its second part needs E < as_of ≤ deadline, ...). Quotas are
    round(rate × batches); with at least MIN_BATCHES_FOR_COVERAGE batches each reason gets a
    batch even when the rate would round to fewer. Each kind of fate scans the shuffled batches
    once, so this is linear in the number of batches.
    """
    g = GRACE_DAYS
    n = len(keys)
    big = n >= MIN_BATCHES_FOR_COVERAGE

    after: dict[tuple[date, int], date] = {}

    def bd(day: date, k: int) -> date:
        value = after.get((day, k))
        if value is None:
            value = after[(day, k)] = add_business_days(day, k)
        return value

    def fee_of(key: tuple[str, date]) -> Decimal:
        return q(totals[key] * fee_rates[key[0]])

    # A very late credit VERY_LATE_DAYS business days after E when some batch allows it, else less.
    very_late = VERY_LATE_DAYS if any(bd(k[1], VERY_LATE_DAYS) < as_of for k in keys) else VERY_LATE_MIN_DAYS
    eligible: dict[str, Callable[[tuple[str, date]], bool]] = {
        "very_late": lambda k: bd(k[1], very_late) < as_of,
        "late": lambda k: bd(k[1], g + 1) < as_of,
        "never_paid": lambda k: bd(k[1], g) < as_of,
        "partial_late": lambda k: bd(k[1], g + 1) < as_of and totals[k] >= 1,
        "partial_pending": lambda k: k[1] < as_of <= bd(k[1], g) and totals[k] >= 1,
        "slightly_late_gap": lambda k: bd(k[1], g) < as_of and (bd(k[1], g) - k[1]).days > g,
        "anticipated": lambda k: bd(spans[k][1], 1) < k[1] and bd(spans[k][1], 1) < as_of and fee_of(k) > TOLERANCE,
        "partial": lambda k: bd(k[1], 1) < as_of and totals[k] >= 1,
        "wrong_amount": lambda k: k[1] < as_of,
        "within_tolerance": lambda k: k[1] < as_of,
        "slightly_late": lambda k: bd(k[1], 1) < as_of,
    }

    wanted: dict[str, int] = dict.fromkeys(_FATE_ORDER, 0)

    def quota(rate: float, floor: tuple[str, ...], rest: tuple[str, ...], multiplier: int = 1) -> None:
        count = round(rate * n)
        if rate > 0 and big:
            count = max(count, len(floor))
            chosen = list(floor)
        else:
            chosen = []
        while len(chosen) < count:
            chosen.append(rng.choice(rest))
        for fate in chosen[:count]:
            wanted[fate] += multiplier

    quota(cfg.divergent_rate, ("late", "never_paid", "wrong_amount"), ("late", "never_paid", "wrong_amount"))
    quota(
        cfg.partial_payment_rate,
        ("partial_pending", "partial_late", "partial"),
        ("partial", "partial", "partial_late", "partial_pending"),
    )
    quota(cfg.anticipation_rate, ("anticipated",), ("anticipated",))
    if cfg.unlisted_settlement_rate > 0 and big:
        wanted["very_late"] += 1  # the floor; further unlisted batches keep their fate (see below)
    variants = round(RECONCILED_VARIANT_RATE * n)
    if n >= MIN_BATCHES_FOR_VARIANTS:
        variants = max(variants, 1)
        wanted["slightly_late_gap"] += 1
        wanted["slightly_late"] += variants - 1
    else:
        wanted["slightly_late"] += variants
    wanted["within_tolerance"] += variants

    shuffled = list(keys)
    rng.shuffle(shuffled)
    fates: dict[tuple[str, date], str] = {}
    for fate in _FATE_ORDER:
        want = wanted[fate]
        test = eligible[fate]
        for key in shuffled:
            if want <= 0:
                break
            if key not in fates and test(key):
                fates[key] = fate
                want -= 1
        if fate == "slightly_late_gap" and want > 0:
            wanted["slightly_late"] += want  # no weekend/holiday gap available: an ordinary one instead

    plans: dict[tuple[str, date], _Plan] = {}
    for key in keys:
        expected, total = key[1], totals[key]
        fate = fates.get(key, "on_time")

        def later(first: int, last: int, *, visible: bool = True, expected: date = expected) -> date:
            days = [bd(expected, j) for j in range(first, last + 1)]
            days = [d for d in days if (d < as_of) == visible]
            return amounts.choice(days)

        if fate == "on_time":
            plans[key] = _Plan("on_time", ((expected, total),))
        elif fate == "very_late":
            day = next(
                d for d in (bd(expected, j) for j in range(VERY_LATE_DAYS, VERY_LATE_MIN_DAYS - 1, -1)) if d < as_of
            )
            plans[key] = _Plan("very_late", ((day, total),), listed=False)
        elif fate in ("within_tolerance", "wrong_amount"):
            off = amounts.randint(1, int(TOLERANCE * 100)) if fate == "within_tolerance" else amounts.randint(50, 2_500)
            cents = int(total * 100)
            cents = cents + off if amounts.random() < 0.5 or cents - off < 1 else cents - off
            plans[key] = _Plan(fate, ((expected, from_cents(cents)),))  # type: ignore[arg-type]
        elif fate == "slightly_late_gap":
            plans[key] = _Plan("slightly_late", ((bd(expected, g), total),))
        elif fate == "slightly_late":
            plans[key] = _Plan("slightly_late", ((later(1, g), total),))
        elif fate == "late":
            plans[key] = _Plan("late", ((later(g + 1, g + 3), total),))
        elif fate == "never_paid":
            plans[key] = _Plan("never_paid", ())
        elif fate == "anticipated":
            fee = fee_of(key)
            day = bd(spans[key][1], 1)
            rate = fee_rates[key[0]]
            plans[key] = _Plan("anticipated", ((day, total - fee),), Anticipation(rate, fee, total, total - fee, day))
        else:  # partial payments: 40–70 % on E, the rest later
            first = q(total * amounts.randint(40, 70) / 100)
            if fate == "partial":
                second_day = later(1, g)
            elif fate == "partial_late":
                second_day = later(g + 1, g + 3)
            else:
                second_day = later(1, g, visible=False)
            plans[key] = _Plan(fate, ((expected, first), (second_day, total - first)))  # type: ignore[arg-type]
    for key in _unlisted(keys, fates, as_of, cfg, big):
        plans[key] = replace(plans[key], listed=False)
    return plans


def _unlisted(
    keys: list[tuple[str, date]], fates: dict[tuple[str, date], str], as_of: date, cfg: IfoodKnobs, big: bool
) -> list[tuple[str, date]]:
    """Batches, besides the very_late one, whose settlement iFood's API does not list.

    round(unlisted_settlement_rate × batches) in all, very_late included; with the coverage floor,
    one paid on time (found by amount) and one paid a wrong amount on E (found by the expected
    date) come first. Only single-credit fates qualify (UNLISTED_FATES); drawn from a stream of
    their own, so the other fates stay where they were.
    """
    rate = cfg.unlisted_settlement_rate
    if rate <= 0:
        return []
    already = sum(1 for fate in fates.values() if fate == "very_late")
    count = round(rate * len(keys)) - already
    pool = [k for k in keys if fates.get(k, "on_time") in UNLISTED_FATES]
    stream(cfg.seed, "unlisted").shuffle(pool)
    chosen: list[tuple[str, date]] = []
    if big:
        for want in ("on_time", "wrong_amount"):
            found = next((k for k in pool if fates.get(k, "on_time") == want and k[1] < as_of), None)
            if found is not None:
                chosen.append(found)
        count = max(count, len(chosen))
    chosen += [k for k in pool if k not in chosen][: max(count - len(chosen), 0)]
    return chosen[:count] if count > 0 else []
