"""How a gateway's payout reaches the bank, and the ways it goes wrong.

Every gateway pays its payouts (`PayoutFacts`: amount `A`, date `D`) into the store's bank
account; most arrive on `D` for `A` to the cent, and a share (`payout_fault_rate`) does not, in one
of the ways the rules document tells apart (docs/payment-reconciliation-rules.md, "Matching"):

| fault | the bank shows | the rules say |
|---|---|---|
| `rounding` | one credit on `D`, a few centavos off | matched (within tolerance) |
| `late` | one credit for `A`, some business days after the deadline | late |
| `short` | one credit on `D` for clearly less | short |
| `missing` | nothing | missing |
| `doubled` | two credits for `A` on `D` | ambiguous (never guessed) |
| `split` | two credits on `D` that sum to `A` | split |

The generator of a gateway calls `plan_credits` per payout with its own stream and payer; the
credits it returns are `PlannedCredit`s for the world's ledger, and `credit_facts` maps them back
to `CreditFacts` once posted. The fault drawn is what the sandbox did, never what the rules
conclude: the ground truth recomputes that from the credits.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from decimal import Decimal

from sandbox.core.bank import Payer, PlannedCredit
from sandbox.core.calendar import add_business_days
from sandbox.core.money import to_cents
from sandbox.core.payments.facts import CreditFacts, PayoutFacts

FAULTS = {"rounding": 2, "late": 2, "short": 2, "missing": 1, "doubled": 1, "split": 1}


def draw_fault(rng: random.Random, fault_rate: float) -> str | None:
    """None (the payout arrives on time, exact) or one of `FAULTS`, by its weight."""
    if rng.random() >= fault_rate:
        return None
    return rng.choices(tuple(FAULTS), weights=tuple(FAULTS.values()))[0]


def plan_credits(
    rng: random.Random, payout: PayoutFacts, payer: Payer, fault: str | None, *, grace_days: int = 3
) -> list[PlannedCredit]:
    """The bank credits that pay `payout`, given the fault drawn for it (None: on time, exact)."""
    cents = to_cents(payout.amount)
    if cents <= 0 or fault == "missing":
        return []

    def credit(day, amount: int, part: int = 0) -> PlannedCredit:
        return PlannedCredit(payer, payout.bank_account_id, day, amount, payout.payout_id, part, None)

    if fault is None:
        return [credit(payout.date, cents)]
    if fault == "rounding":
        return [credit(payout.date, cents - rng.randint(1, 5))]
    if fault == "late":
        return [credit(add_business_days(payout.date, grace_days + rng.randint(1, 4)), cents)]
    if fault == "short":
        return [credit(payout.date, max(1, cents - max(50, cents // rng.randint(5, 20))))]
    if fault == "doubled":
        return [credit(payout.date, cents, 0), credit(payout.date, cents, 1)]
    if fault == "split":
        first = max(1, cents * rng.randint(30, 70) // 100)
        if first >= cents:
            return [credit(payout.date, cents)]
        return [credit(payout.date, first, 0), credit(payout.date, cents - first, 1)]
    raise ValueError(f"unknown payout fault {fault!r}")


def credit_facts(
    platform: str, posted: Mapping[PlannedCredit, str], planned: Sequence[PlannedCredit]
) -> list[CreditFacts]:
    """The planned credits the bank posted (those dated inside the world), as the rules' credits."""
    facts = []
    for c in planned:
        txn = posted.get(c)
        if txn is not None:
            facts.append(CreditFacts(platform, c.account_id, txn, c.posting_date, Decimal(c.cents).scaleb(-2)))
    return facts
