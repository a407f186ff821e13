"""`conciliador calendar …`: the business-day calendar the reconciliation counts in.

Every command turns bad input into one sentence (UserError) rather than a traceback; the
console entry point (`cli/main.py`) prints it and exits 2.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ingestion.errors import UserError

calendar_app = typer.Typer(
    help="The business-day calendar (Brazilian financial holidays) the reconciliation counts in.",
    no_args_is_help=True,
)


@calendar_app.command("refresh")
def calendar_refresh(
    first_year: Annotated[
        int | None, typer.Option(min=1990, max=2200, help="First year (default: the seed's).")
    ] = None,
    last_year: Annotated[int | None, typer.Option(min=1990, max=2200, help="Last year (default: the seed's).")] = None,
) -> None:
    """Rewrite dbt/seeds/br_financial_holidays.csv from the installed `holidays` package."""
    from ingestion.calendar import SEED_PATH, refresh_seed, seed_years

    try:
        count = refresh_seed(first_year=first_year, last_year=last_year)
    except ValueError as exc:
        raise UserError(f"{exc}.") from None
    first, last = seed_years()
    typer.echo(f"{count} holidays ({first}–{last}) written to {SEED_PATH}; the next dbt build loads them.")
