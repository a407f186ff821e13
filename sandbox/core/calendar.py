"""Business days of the sandbox world: Monday–Friday except Brazilian financial holidays.

The holiday source is the `holidays` package's B3 calendar (`holidays.financial_holidays("BVMF")`:
national holidays plus Carnival, Corpus Christi, Christmas Eve and the last business day of the
year), as in docs/reconciliation-rules.md. The helpers follow that document's definitions:

- `add_business_days(d, n)`: the n-th business day strictly after `d` (n ≥ 1); `d` when n = 0;
- `business_days_between(a, b)`: the business days `x` with `a < x ≤ b` (0 when b ≤ a);
- `roll_forward(d)`: `d` if it is a business day, else the next one (how a platform moves a
  payout date that falls on a weekend or holiday).

Holidays are loaded one year at a time and cached, so a check is a set lookup. `SAO_PAULO` is the
time zone business dates are reckoned in (a sale's or payout's day is its São Paulo calendar day).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
_ONE_DAY = timedelta(days=1)


@cache
def _holidays_of(year: int) -> frozenset[date]:
    return frozenset(holidays.financial_holidays("BVMF", years=[year]))


def holidays_between(first: date, last: date) -> list[date]:
    """The financial holidays in [first, last], ascending (weekday or not, as the package lists them)."""
    days: list[date] = []
    for year in range(first.year, last.year + 1):
        days.extend(d for d in _holidays_of(year) if first <= d <= last)
    return sorted(days)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays_of(day.year)


def roll_forward(day: date) -> date:
    """`day` itself when it is a business day, else the next business day."""
    while not is_business_day(day):
        day += _ONE_DAY
    return day


def add_business_days(day: date, n: int) -> date:
    """The n-th business day strictly after `day` (n ≥ 1); `day` itself when n = 0."""
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    while n:
        day += _ONE_DAY
        if is_business_day(day):
            n -= 1
    return day


def business_days_between(a: date, b: date) -> int:
    """How many business days `x` satisfy `a < x ≤ b` (0 when b ≤ a)."""
    count = 0
    day = a
    while day < b:
        day += _ONE_DAY
        count += is_business_day(day)
    return count
