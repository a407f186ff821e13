"""The business-day calendar comes from the maintained `holidays` package, never by hand."""

from __future__ import annotations

import csv
from datetime import date

from ingestion.calendar import SEED_PATH, financial_holidays, refresh_seed, seed_text, seed_years


def test_the_committed_seed_is_what_the_installed_package_says() -> None:
    # If this fails after a `holidays` upgrade, run `conciliador calendar refresh` and commit.
    assert SEED_PATH.read_text(encoding="utf-8") == seed_text(*seed_years())


def test_a_refresh_extends_the_years_and_otherwise_keeps_them(tmp_path) -> None:
    seed = tmp_path / "holidays.csv"
    refresh_seed(seed, first_year=2025, last_year=2026)
    assert seed_years(seed) == (2025, 2026)
    refresh_seed(seed, last_year=2043)
    assert seed_years(seed) == (2025, 2043)
    assert seed.read_text(encoding="utf-8") == seed_text(2025, 2043)
    refresh_seed(seed)
    assert seed_years(seed) == (2025, 2043)


def test_the_seed_holds_the_days_settlement_does_not_run() -> None:
    with SEED_PATH.open(encoding="utf-8") as handle:
        days = {date.fromisoformat(row["holiday_date"]) for row in csv.DictReader(handle)}
    assert date(2026, 10, 12) in days  # Nossa Senhora Aparecida, a Monday
    assert {date(2027, 2, 8), date(2027, 2, 9)} <= days  # Carnival: banks closed, not a national holiday
    assert date(2026, 6, 4) in days  # Corpus Christi
    assert date(2026, 10, 13) not in days
    assert len(days) == len(financial_holidays(*seed_years()))
