"""Status history: the snapshot and the transitions mart, across real dbt builds."""

from __future__ import annotations

from datetime import date

import psycopg

from ingestion.dbt_runner import run_dbt

BUILD = ("build", "--select", "+fct_ifood_order_status_transitions")
TRANSITIONS = """
    select order_id, from_status, to_status, to_reason, as_of_date
    from marts.fct_ifood_order_status_transitions order by changed_at
"""


def test_an_auditor_sees_an_order_move_from_awaiting_to_reconciled(clean_warehouse: str, paid_order) -> None:
    with psycopg.connect(clean_warehouse, autocommit=True) as conn:
        conn.execute("drop schema if exists snapshots cascade")
        paid_order(conn, "t-audit", credit_amount="40.00", credit_date="2026-10-05")

    # As of 10-04 the credit dated 10-05 is not visible yet: awaiting.
    run_dbt(clean_warehouse, BUILD, as_of=date(2026, 10, 4), quiet=True)
    # Rebuilding the same day adds no history.
    run_dbt(clean_warehouse, BUILD, as_of=date(2026, 10, 4), quiet=True)
    # As of 10-06 the credit is visible: reconciled.
    run_dbt(clean_warehouse, BUILD, as_of=date(2026, 10, 6), quiet=True)

    with psycopg.connect(clean_warehouse) as conn:
        transitions = conn.execute(TRANSITIONS).fetchall()
        versions = conn.execute("select count(*) from snapshots.snap_ifood_order_status").fetchone()[0]
    assert transitions == [
        ("o-t-audit", None, "awaiting_settlement", "awaiting_payment", date(2026, 10, 4)),
        ("o-t-audit", "awaiting_settlement", "reconciled", None, date(2026, 10, 6)),
    ]
    assert versions == 2
