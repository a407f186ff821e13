"""The business-day calendar comes from the maintained `holidays` package, never by hand."""

from __future__ import annotations

import csv
from datetime import date

from ingestion.calendar import SEED_PATH, financial_holidays, seed_text


def test_the_committed_seed_is_what_the_installed_package_says() -> None:
    # If this fails after a `holidays` upgrade, run `conciliador calendar refresh` and commit.
    assert SEED_PATH.read_text(encoding="utf-8") == seed_text()


def test_the_seed_holds_the_days_settlement_does_not_run() -> None:
    with SEED_PATH.open(encoding="utf-8") as handle:
        days = {date.fromisoformat(row["holiday_date"]) for row in csv.DictReader(handle)}
    assert date(2026, 10, 12) in days  # Nossa Senhora Aparecida, a Monday
    assert {date(2027, 2, 8), date(2027, 2, 9)} <= days  # Carnival: banks closed, not a national holiday
    assert date(2026, 6, 4) in days  # Corpus Christi
    assert date(2026, 10, 13) not in days
    assert len(days) == len(financial_holidays())
