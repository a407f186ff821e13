"""Brazilian financial holidays for the dbt calendar, from a maintained source.

Payouts and bank credits (TED) only move on days settlement runs, so "late" must be counted in
business days. The holiday list comes from the `holidays` package's B3 calendar (BVMF: national
holidays plus Carnival, Corpus Christi, Christmas Eve and the year's last business day) rather than
a hand-typed list; `conciliador calendar refresh` rewrites the dbt seed from it and a test fails
when the committed seed and the installed package disagree.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import holidays

SEED_PATH = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "br_financial_holidays.csv"
# The years a new seed spans. The dbt calendar (int_calendar__business_days) spans whatever
# years the seed holds, and a refresh keeps the seed's span unless told otherwise.
FIRST_YEAR = 2015
LAST_YEAR = 2040
MARKET = "BVMF"


def financial_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> list[tuple[date, str]]:
    """(date, name) of every B3 holiday in the years, weekends included when a holiday falls on one."""
    calendar = holidays.financial_holidays(MARKET, years=range(first_year, last_year + 1))
    return sorted(calendar.items())


def seed_text(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> str:
    """The seed's CSV text: `holiday_date,holiday_name,source`, one line per holiday."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["holiday_date", "holiday_name", "source"])
    source = f"holidays {holidays.__version__} financial_holidays('{MARKET}')"
    for day, name in financial_holidays(first_year, last_year):
        writer.writerow([day.isoformat(), name, source])
    return buffer.getvalue()


def seed_years(path: Path = SEED_PATH) -> tuple[int, int]:
    """(first, last) year the seed spans; the defaults when there is no seed yet."""
    try:
        with path.open(encoding="utf-8") as handle:
            years = [int(row["holiday_date"][:4]) for row in csv.DictReader(handle)]
    except FileNotFoundError:
        return FIRST_YEAR, LAST_YEAR
    return (min(years), max(years)) if years else (FIRST_YEAR, LAST_YEAR)


def refresh_seed(path: Path = SEED_PATH, *, first_year: int | None = None, last_year: int | None = None) -> int:
    """Rewrite the seed from the installed package over the given years (default: the seed's
    own span, so a refresh after a `holidays` upgrade changes names and dates, not coverage);
    returns the number of holidays written."""
    current_first, current_last = seed_years(path)
    first_year, last_year = first_year or current_first, last_year or current_last
    if last_year < first_year:
        raise ValueError(f"--last-year {last_year} is before --first-year {first_year}")
    text = seed_text(first_year, last_year)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text.count("\n") - 1
