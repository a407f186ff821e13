"""Bank statements of the sandbox: one compact, column-wise ledger per store account.

A benchmark world holds a million bank transactions in one account, so a transaction is not an
object here: it is one row across a few parallel columns (a Python list of sort keys plus
`array` columns of centavos, kinds, counterparties and creation times), about 60 bytes each.
The JSON the bank platform's fake API serves is rendered from these columns page by page, never
stored.

Rows are kept in the statement's listing order, (posting date, transaction id), which is also the
order of the sort key `(day ordinal << 128) | uuid int`: a date range or a cursor position is then
one `bisect` away.

Most rows are noise (PIX, boletos, fees: `NOISE_KINDS`). The rest are payouts (`KIND_PAYOUT`):
credits some platform planned (`PlannedCredit`), each naming its `Payer` — who sends it and how
the statement shows it — so the ledger itself knows no platform, and any platform's payouts land
in the same accounts.
"""

from __future__ import annotations

import bisect
import random
import sys
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import accumulate, repeat

from sandbox.core.counterparties import Counterparties, Counterparty
from sandbox.core.ids import UUID4_CLEAR, UUID4_SET, format_uuid, uuid4_int
from sandbox.core.money import from_cents

UUID_BITS = 128
UUID_MASK = (1 << UUID_BITS) - 1

# What a bank transaction is; the bank's wire format renders each kind with its own wording, and a
# payout with its payer's.
KIND_PAYOUT = 0
KIND_PIX_IN = 1
KIND_PIX_OUT = 2
KIND_BOLETO = 3
KIND_CARD_SETTLEMENT = 4
KIND_TED_OUT = 5
KIND_BANK_FEE = 6
NOISE_KINDS = (KIND_PIX_IN, KIND_PIX_OUT, KIND_BOLETO, KIND_CARD_SETTLEMENT, KIND_TED_OUT, KIND_BANK_FEE)
# Weights out of 256 (≈ 30 % PIX in, 28 % PIX out, 15 % boletos, 12 % card settlements, 8 % TED out,
# 7 % fees): a random byte translated through _KIND_BYTES draws a kind, a whole day at C speed.
_NOISE_WEIGHTS = {
    KIND_PIX_IN: 77,
    KIND_PIX_OUT: 72,
    KIND_BOLETO: 38,
    KIND_CARD_SETTLEMENT: 31,
    KIND_TED_OUT: 20,
    KIND_BANK_FEE: 18,
}
_KIND_BYTES = bytes(kind for kind, weight in _NOISE_WEIGHTS.items() for _ in range(weight))
assert len(_KIND_BYTES) == 256
# Signed centavo ranges [low, low + span) per kind: credits positive, debits negative; weighted by
# _NOISE_WEIGHTS the noise nets to roughly zero, so balances drift little however much noise there is.
_AMOUNT_RANGE = {
    KIND_PIX_IN: (1_000, 59_000),
    KIND_PIX_OUT: (-150_000, 145_000),
    KIND_BOLETO: (-300_000, 290_000),
    KIND_CARD_SETTLEMENT: (20_000, 980_000),
    KIND_TED_OUT: (-600_000, 550_000),
    KIND_BANK_FEE: (-9_000, 8_500),
}
# Transactions reach the bank's API between 06:00 and 23:59 UTC of their posting day.
CREATED_FIRST_S = 6 * 3600
CREATED_SPAN_S = 18 * 3600 - 60


def parties_of_kind(counterparties: Counterparties, kind: int) -> tuple[Counterparty, ...]:
    """The counterparty table a noise row's `party` indexes (empty for bank fees, which have none)."""
    if kind == KIND_PIX_IN:
        return counterparties.customers
    if kind == KIND_CARD_SETTLEMENT:
        return counterparties.acquirers
    if kind in (KIND_PIX_OUT, KIND_BOLETO, KIND_TED_OUT):
        return counterparties.suppliers
    return ()


@dataclass(frozen=True, slots=True)
class Payer:
    """Who sends a payout and how the bank statement shows it: the same for every credit it pays.

    `party` is the payer's legal name, CNPJ and own bank account (a statement's payment data names
    them); `description` / `description_raw` are the texts the bank prints (its clean description
    and its raw, truncated one: banks without payment data show only these); `method` is how the
    money travels (`TED`, `PIX`). The platform that pays supplies its payer; the bank only shows it.
    """

    party: Counterparty
    description: str
    description_raw: str
    method: str = "TED"

    @property
    def legal_name(self) -> str:
        return self.party.name

    @property
    def document(self) -> str:
        return self.party.document


@dataclass(frozen=True, slots=True)
class PlannedCredit:
    """A payout some platform plans into a store's account: who pays, where, when, how much.

    `reference` is the payer's own reference for the transfer when the statement shows one (then it
    is the transaction's reference number); None when the bank shows only its own number. `part`
    tells the credits of one payout apart (0, or 1 for the second credit of a payout paid in two).
    Credits are matched back to their bank transaction by identity (`build_ledger` returns the
    transaction id of each posted credit), so they must differ in at least one field.
    """

    payer: Payer
    account_id: str
    posting_date: date
    cents: int
    payout: str  # the payer's name for what the credit pays (e.g. a payout batch); unique per payer and account
    part: int = 0
    reference: str | None = None


@dataclass(slots=True)
class BankLedger:
    """One account's statement in listing order: row i is one transaction.

    `party[i]` indexes the counterparty table of the row's kind (`parties_of_kind`); for a payout
    it indexes `payouts`, the planned credit the row is (whose payer says who sent it).
    """

    account_id: str
    first_day: int  # date ordinal of the first day with rows
    opening_balance_cents: int
    keys: list[int] = field(default_factory=list)  # (posting-date ordinal << 128) | uuid int, ascending
    amount: array = field(default_factory=lambda: array("q"))  # centavos, signed
    kind: bytearray = field(default_factory=bytearray)
    party: array = field(default_factory=lambda: array("I"))
    created: array = field(default_factory=lambda: array("I"))  # seconds after 00:00 UTC of the posting day
    balance: array = field(default_factory=lambda: array("q"))  # centavos after the row posted
    payouts: list[PlannedCredit] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    def transaction_id(self, i: int) -> str:
        return format_uuid(self.keys[i] & UUID_MASK)

    def posting_date(self, i: int) -> date:
        return date.fromordinal(self.keys[i] >> UUID_BITS)

    def amount_of(self, i: int) -> Decimal:
        return from_cents(self.amount[i])

    @property
    def closing_balance(self) -> Decimal:
        return from_cents(self.balance[-1] if self.balance else self.opening_balance_cents)


def build_ledger(
    rng: random.Random,
    *,
    account_id: str,
    start: date,
    days: int,
    noise_per_day: int,
    credits: Sequence[PlannedCredit],
    counterparties: Counterparties,
    opening_balance_cents: int,
) -> tuple[BankLedger, dict[PlannedCredit, str]]:
    """Generate the statement of one account for `days` days from `start`.

    Every day gets exactly `noise_per_day` unrelated transactions plus the planned credits posted
    that day (in the order given); `credits` outside the window are ignored (not visible yet).
    Returns the ledger and the transaction id of each posted credit.
    """
    first = start.toordinal()
    ledger = BankLedger(account_id=account_id, first_day=first, opening_balance_cents=opening_balance_cents)
    by_day: dict[int, list[PlannedCredit]] = {}
    for credit in credits:
        offset = credit.posting_date.toordinal() - first
        if 0 <= offset < days:
            by_day.setdefault(offset, []).append(credit)

    getrandbits = rng.getrandbits
    low = [0] * 7
    span = [0] * 7
    n_party = [1] * 7
    for kind, (lo, sp) in _AMOUNT_RANGE.items():
        low[kind], span[kind] = lo, sp
        n_party[kind] = max(1, len(parties_of_kind(counterparties, kind)))

    # Column-wise per day: draw the day's ids and sort them (that is the listing order), then draw
    # kinds and uniform 32-bit numbers in bulk and map them to amounts, counterparties and times.
    # No per-row tuples or sorts of tuples: a million rows take about a second.
    for day in range(days):
        n = noise_per_day
        ids = sorted([(bits & UUID4_CLEAR) | UUID4_SET for bits in map(getrandbits, repeat(128, n))])
        kinds = bytearray(rng.randbytes(n).translate(_KIND_BYTES))
        draws = array("I")
        draws.frombytes(rng.randbytes(12 * n))
        if sys.byteorder == "big":  # same world on every machine
            draws.byteswap()
        r_amount, r_party, r_created = draws[0::3], draws[1::3], draws[2::3]
        amounts = [low[k] + (r * span[k] >> 32) for k, r in zip(kinds, r_amount, strict=True)]
        parties = [r * n_party[k] >> 32 for k, r in zip(kinds, r_party, strict=True)]
        created = [CREATED_FIRST_S + (r * CREATED_SPAN_S >> 32) for r in r_created]
        for credit in by_day.get(day, ()):
            u = uuid4_int(getrandbits(128))
            at = bisect.bisect(ids, u)
            ids.insert(at, u)
            kinds.insert(at, KIND_PAYOUT)
            amounts.insert(at, credit.cents)
            parties.insert(at, len(ledger.payouts))
            created.insert(at, CREATED_FIRST_S + (getrandbits(32) * CREATED_SPAN_S >> 32))
            ledger.payouts.append(credit)
        base = (first + day) << UUID_BITS
        ledger.keys.extend([base | u for u in ids])
        ledger.kind.extend(kinds)
        ledger.amount.extend(amounts)
        ledger.party.extend(parties)
        ledger.created.extend(created)

    amount, kinds, party = ledger.amount, ledger.kind, ledger.party
    ledger.balance = array("q", accumulate(amount, initial=opening_balance_cents))
    ledger.balance.pop(0)
    posted: dict[PlannedCredit, str] = {}
    i = kinds.find(KIND_PAYOUT)
    while i >= 0:
        posted[ledger.payouts[party[i]]] = ledger.transaction_id(i)
        i = kinds.find(KIND_PAYOUT, i + 1)
    return ledger, posted


def noise_weights() -> Mapping[int, float]:
    """Share of each noise kind (sums to 1); exposed for tests and documentation."""
    return {kind: weight / 256 for kind, weight in _NOISE_WEIGHTS.items()}
