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
