"""Contracts (split rates, fee schedules): loaded, edited and refused by a real PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from ingestion.contracts import FeeSchedule, SplitRate, list_fees, list_split_rates, load, set_fee, set_split_rate
from ingestion.errors import UserError

CONTRACT = {
    "split_rates": [
        {
            "tenant_id": "t1",
            "product_id": None,
            "platform_fee_rate": "0.04",
            "affiliate_rate": "0.30",
            "valid_from": "2015-01-01",
            "valid_to": None,
        },
        {
            "tenant_id": "t1",
            "product_id": "p1",
            "platform_fee_rate": "0.05",
            "affiliate_rate": "0.40",
            "valid_from": "2015-01-01",
            "valid_to": "2026-10-15",
        },
        {
            "tenant_id": "t1",
            "product_id": "p1",
            "platform_fee_rate": "0.05",
            "affiliate_rate": "0.25",
            "valid_from": "2026-10-16",
            "valid_to": None,
        },
    ],
    "fee_schedules": [
        {
            "tenant_id": "t1",
            "platform": "stripe",
            "method": "card",
            "installments_from": 1,
            "installments_to": 1,
            "percent_fee": "3.99",
            "fixed_fee": "0.39",
            "release_days": None,
            "valid_from": "2026-01-01",
            "valid_to": None,
        },
        {
            "tenant_id": "t1",
            "platform": "stripe",
            "method": "card",
            "installments_from": 2,
            "installments_to": 12,
            "percent_fee": "4.99",
            "fixed_fee": "0.39",
            "release_days": None,
            "valid_from": "2026-01-01",
            "valid_to": None,
        },
    ],
}


def _snapshot(conn: psycopg.Connection) -> tuple:
    return (
        conn.execute(
            "select tenant_id, product_id, platform_fee_rate, affiliate_rate, valid_from, valid_to from control.split_rates order by 1, 2, 5"
        ).fetchall(),
        conn.execute(
            "select tenant_id, platform, method, installments_from, percent_fee, fixed_fee, valid_from from control.fee_schedules order by 1, 2, 3, 4"
        ).fetchall(),
    )


def test_loading_the_same_contract_twice_changes_nothing(clean_warehouse: str) -> None:
    with psycopg.connect(clean_warehouse) as conn:
        assert load(conn, CONTRACT) == {"tenants": 1, "split_rates": 3, "fee_schedules": 2}
        first = _snapshot(conn)
        load(conn, json.loads(json.dumps(CONTRACT)))
        assert _snapshot(conn) == first
        assert len(first[0]) == 3 and len(first[1]) == 2


def test_a_bad_row_anywhere_changes_nothing(clean_warehouse: str) -> None:
    with psycopg.connect(clean_warehouse) as conn:
        load(conn, CONTRACT)
        before = _snapshot(conn)
        bad = json.loads(json.dumps(CONTRACT))
        bad["fee_schedules"][1]["percent_fee"] = "abc"
        with pytest.raises(UserError, match=r"fee_schedules\[1\]: percent_fee must be a number"):
            load(conn, bad)
        overlapping = json.loads(json.dumps(CONTRACT))
        overlapping["split_rates"][2]["valid_from"] = "2026-10-15"  # the same day twice for p1
        with pytest.raises(UserError, match="overlaps an existing row"):
            load(conn, overlapping)
        assert _snapshot(conn) == before


def test_set_closes_the_open_row_it_supersedes(clean_warehouse: str) -> None:
    with psycopg.connect(clean_warehouse) as conn:
        load(conn, CONTRACT)
        set_split_rate(
            conn, SplitRate("t1", None, Decimal("0.05"), Decimal("0.30"), date(2026, 11, 1), None, "renegotiated")
        )
        defaults = [r for r in list_split_rates(conn, "t1") if r.product_id is None]
        assert [(r.valid_from, r.valid_to, r.platform_fee_rate) for r in defaults] == [
            (date(2015, 1, 1), date(2026, 10, 31), Decimal("0.040000")),
            (date(2026, 11, 1), None, Decimal("0.050000")),
        ]
        set_fee(
            conn,
            FeeSchedule("t1", "stripe", "card", 1, 1, Decimal("2.99"), Decimal("0.39"), None, date(2026, 11, 1), None),
        )
        card = [f for f in list_fees(conn, "t1") if f.installments_from == 1]
        assert [(f.valid_to, f.percent_fee) for f in card] == [
            (date(2026, 10, 31), Decimal("3.9900")),
            (None, Decimal("2.9900")),
        ]


def test_an_overlapping_band_is_refused_in_one_sentence(clean_warehouse: str) -> None:
    with psycopg.connect(clean_warehouse) as conn:
        load(conn, CONTRACT)
        with pytest.raises(UserError, match="overlaps an existing row for the same key in time"):
            # installments 1-3 overlaps both the 1x and the 2-12x bands, which stay open
            set_fee(
                conn,
                FeeSchedule("t1", "stripe", "card", 1, 3, Decimal("1"), Decimal("0"), None, date(2026, 1, 1), None),
            )


def test_coproducer_rate_is_optional_and_loaded_exactly(clean_warehouse: str) -> None:
    """Sales platforms' co-producer rate: absent stays null (the dbt var), given is kept exact, out of range refused."""
    with_coproducer = json.loads(json.dumps(CONTRACT))
    with_coproducer["split_rates"][1]["coproducer_rate"] = "0.2"
    with psycopg.connect(clean_warehouse) as conn:
        load(conn, with_coproducer)
        rates = {(r.product_id, r.valid_from): r.coproducer_rate for r in list_split_rates(conn, "t1")}
        assert rates == {
            (None, date(2015, 1, 1)): None,
            ("p1", date(2015, 1, 1)): Decimal("0.200000"),
            ("p1", date(2026, 10, 16)): None,
        }
        bad = json.loads(json.dumps(CONTRACT))
        bad["split_rates"][0]["coproducer_rate"] = "1.5"
        with pytest.raises(UserError, match=r"split_rates\[0\]: coproducer_rate must be between 0 and 1"):
            load(conn, bad)
        set_split_rate(
            conn,
            SplitRate("t1", None, Decimal("0.04"), Decimal("0.30"), date(2026, 11, 1), None, None, Decimal("0.15")),
        )
        assert [r.coproducer_rate for r in list_split_rates(conn, "t1") if r.product_id is None] == [
            None,
            Decimal("0.150000"),
        ]
        # The database refuses a rate outside [0, 1] whoever writes it (psql, a BI tool).
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "insert into control.split_rates (tenant_id, platform_fee_rate, affiliate_rate, coproducer_rate, "
                "valid_from) values ('t2', 0, 0, -0.1, '2026-01-01')"
            )


def test_the_coproducer_rate_column_is_added_to_an_existing_warehouse(clean_warehouse: str) -> None:
    """A warehouse made before the sales platforms gains the nullable column in place; its rows are kept."""
    from ingestion.warehouse import ensure_schema

    with psycopg.connect(clean_warehouse, autocommit=True) as conn:
        load(conn, CONTRACT)
        conn.execute("alter table control.split_rates drop column coproducer_rate")
    ensure_schema(clean_warehouse)
    ensure_schema(clean_warehouse)  # idempotent
    with psycopg.connect(clean_warehouse) as conn:
        assert [r.coproducer_rate for r in list_split_rates(conn, "t1")] == [None, None, None]


def test_splits_set_takes_a_coproducer_rate(clean_warehouse: str) -> None:
    from typer.testing import CliRunner

    from cli.contracts import splits_app

    runner = CliRunner()
    result = runner.invoke(
        splits_app,
        ["set", "--tenant", "t1", "--from", "2026-10-01", "--product", "p9", "--coproducer-rate", "0.25"],
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(splits_app, ["list", "--tenant", "t1"])
    assert "coproducer 0.250000" in listed.output
    refused = runner.invoke(splits_app, ["set", "--tenant", "t1", "--from", "2026-10-01", "--coproducer-rate", "2"])
    assert isinstance(refused.exception, UserError) and "--coproducer-rate must be between 0 and 1" in str(
        refused.exception
    )
    with psycopg.connect(clean_warehouse) as conn:
        assert [(r.product_id, r.coproducer_rate) for r in list_split_rates(conn, "t1")] == [
            ("p9", Decimal("0.250000"))
        ]
