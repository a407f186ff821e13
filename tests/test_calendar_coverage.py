"""The business-day calendar runs out loudly: one sentence naming the missing years, never a null deadline.

The calendar spans the years of the holiday seed (2015–2040). A run whose as-of date, plus how far
ahead payouts are scheduled, plus the largest grace any tenant has, reaches past that stops when
the calendar is built; a stored date beyond it (an expected payment date years ahead) stops the
build at its data test. Real dbt runs on the session's PostgreSQL.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from ingestion.dbt_runner import run_dbt
from ingestion.errors import UserError
from ingestion.tolerances import set_tolerance

CALENDAR = (
    "build",
    "--select",
    "br_financial_holidays",
    "int_calendar__business_days",
    "--indirect-selection",
    "cautious",
)
ADVICE = "extend it with `conciliador calendar refresh --first-year/--last-year` to cover those years"


@pytest.fixture(scope="module")
def url(clean_module_warehouse: str) -> str:
    return clean_module_warehouse


def test_a_run_the_calendar_covers_builds(url: str) -> None:
    # 2040-09-01 + 60 days ahead + 3 business days of grace (+ margin) is still 2040.
    run_dbt(url, CALENDAR, as_of=date(2040, 9, 1), quiet=True)
    with psycopg.connect(url) as conn:
        span = "select min(date_day), max(date_day) from intermediate.int_calendar__business_days"
        first, last = conn.execute(span).fetchone()
    assert (first, last) == (date(2015, 1, 1), date(2040, 12, 31))


def test_a_run_near_the_calendar_end_stops_naming_the_missing_year(url: str) -> None:
    with pytest.raises(UserError) as failure:
        run_dbt(url, CALENDAR, as_of=date(2040, 12, 1), quiet=True)
    message = " ".join(str(failure.value).split())
    assert "the business-day calendar covers 2015–2040 but this run needs 2041 (as-of 2040-12-01" in message
    assert ADVICE in message


def test_a_tenant_grace_beyond_the_calendar_stops_the_run(url: str) -> None:
    """A tenant allowing 4,000 business days of grace needs deadlines into the 2040s."""
    with psycopg.connect(url) as conn:
        set_tolerance(conn, "t-patient", value_tolerance=None, grace_days=4000, note="test")
    try:
        with pytest.raises(UserError) as failure:
            run_dbt(url, CALENDAR, as_of=date(2026, 10, 30), quiet=True)
        message = " ".join(str(failure.value).split())
        assert "covers 2015–2040 but this run needs 2041–2048" in message
        assert "deadlines up to 4000 business days" in message
    finally:
        with psycopg.connect(url) as conn:
            conn.execute("delete from control.tolerances where tenant_id = 't-patient'")


def test_a_stored_date_beyond_the_calendar_stops_the_build(url: str, paid_order) -> None:
    """An event expected in 2041 (bad data, or a far payout term) as of 2026: its batch has no deadline."""
    with psycopg.connect(url) as conn:
        paid_order(conn, "t-far", credit_amount=None, credit_date=None, expected_date="2041-03-01")
        paid_order(conn, "t-near", credit_amount="40.00", credit_date="2026-10-05")
    command = (
        "build",
        "--select",
        "+fct_ifood_order_reconciliation",
        "assert_business_day_calendar_covers_payout_dates",
        "--exclude",
        "resource_type:unit_test",
    )
    with pytest.raises(UserError) as failure:
        run_dbt(url, command, as_of=date(2026, 10, 30), quiet=True)
    message = " ".join(str(failure.value).split())
    assert "the business-day calendar covers 2015–2040 but 1 payout batch(es) need 2041" in message
    assert "payout batch t-far|m-t-far|2041-03-01" in message
    assert ADVICE in message


def test_a_sale_before_the_calendar_stops_the_build(url: str) -> None:
    """A sale of 2014 without events as of 2026: its conciliation deadline cannot be counted."""
    sale = {
        "id": "o-old",
        "createdAt": "2014-06-02T15:00:00Z",
        "merchant": {"id": "m-old", "documents": [{"type": "CNPJ", "value": "11222333000181"}]},
        "saleGrossValue": {"bag": 30.0},
    }
    with psycopg.connect(url) as conn:
        conn.execute("delete from raw.ifood_financial_events where tenant_id = 't-far'")
        conn.execute(
            "insert into raw.ifood_sales (tenant_id, integration_id, external_id, payload_hash, version_key, "
            "payload, merchant_id) values ('t-old', 1, 'o-old', md5('o-old'), gen_random_uuid(), %s, 'm-old')",
            (psycopg.types.json.Jsonb(sale),),
        )
    command = (
        "build",
        "--select",
        "+fct_ifood_order_reconciliation",
        "assert_business_day_calendar_covers_sale_dates",
        "--exclude",
        "resource_type:unit_test",
        "--full-refresh",
    )
    with pytest.raises(UserError) as failure:
        run_dbt(url, command, as_of=date(2026, 10, 30), quiet=True)
    message = " ".join(str(failure.value).split())
    assert "covers 2015–2040 but 1 sale(s) without financial events need 2014 (e.g. sale t-old|o-old)" in message
