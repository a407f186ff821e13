"""Per-tenant tolerances: set from the CLI, applied by the next real dbt build."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from ingestion.dbt_runner import run_dbt
from ingestion.errors import UserError
from ingestion.tolerances import parse_money, set_tolerance


@pytest.mark.parametrize("text", ["-0.01", "abc", "0.001", "NaN"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(UserError, match="--value-tolerance"):
        parse_money(text, "--value-tolerance")


def test_decimal_comma_is_accepted() -> None:
    assert str(parse_money("0,05", "--value-tolerance")) == "0.05"


def test_an_override_changes_the_next_build_for_that_tenant_only(clean_warehouse: str, paid_order) -> None:
    """Two tenants with one payout each, 0.08 short: reconciled under R$ 0.10, not under R$ 0.05."""
    with psycopg.connect(clean_warehouse) as conn:
        for tenant in ("t-default", "t-strict"):
            paid_order(conn, tenant, credit_amount="39.92", credit_date="2026-10-05")
        set_tolerance(conn, "t-strict", value_tolerance=parse_money("0.05", "x"), grace_days=None, note="test")
    run_dbt(clean_warehouse, ("build", "--select", "+fct_ifood_order_reconciliation"), as_of=date(2026, 10, 10))
    with psycopg.connect(clean_warehouse) as conn:
        rows = dict(
            conn.execute(
                "select tenant_id, status || '/' || coalesce(divergence_reason, '') || '/' || value_tolerance "
                "from marts.fct_ifood_order_reconciliation"
            ).fetchall()
        )
        evidence = conn.execute(
            "select evidence from marts.fct_ifood_order_reconciliation where tenant_id = 't-strict'"
        ).fetchone()[0]
    assert rows == {"t-default": "reconciled//0.10", "t-strict": "divergent/value_mismatch/0.05"}
    assert evidence["rule"] == "value_mismatch"
    [credit] = evidence["bank_credits"]
    assert (
        credit["amount"] == 39.92 and credit["posted_date"] == "2026-10-05" and credit["match_rule"] == "expected_date"
    )
    assert evidence["payout_batch"]["expected_amount"] == 40.0
    assert [e["name"] for e in evidence["financial_events"]] == ["ORDER_PAYMENT"]
    assert evidence["value_tolerance"] == 0.05


def test_negative_missing_days_are_refused(clean_warehouse: str) -> None:
    with psycopg.connect(clean_warehouse) as conn, pytest.raises(UserError, match="--missing-days"):
        set_tolerance(conn, "t1", value_tolerance=None, grace_days=None, missing_from_conciliation_days=-1)


def test_missing_from_conciliation_days_move_a_sale_without_events(clean_warehouse: str) -> None:
    """A sale of Friday 2026-10-09 with no events: its deadline is 2 business days later,
    Wednesday 14 (Monday 12 is a holiday), so as of Tuesday 13 it is only not booked yet;
    a tenant allowing 0 days sees it missing from conciliation."""
    with psycopg.connect(clean_warehouse) as conn:
        for tenant in ("t-default", "t-impatient"):
            sale = {
                "id": f"o-{tenant}",
                "createdAt": "2026-10-09T15:00:00.000Z",
                "merchant": {"id": "m1", "documents": [{"type": "CNPJ", "value": "11222333000181"}]},
                "saleGrossValue": {"bag": 30.0},
            }
            conn.execute(
                "insert into raw.ifood_sales (tenant_id, integration_id, external_id, payload_hash, version_key, "
                "payload, merchant_id) values (%s, 1, %s, md5(%s), gen_random_uuid(), %s, 'm1')",
                (tenant, sale["id"], str(sale), psycopg.types.json.Jsonb(sale)),
            )
        conn.commit()
        set_tolerance(conn, "t-impatient", value_tolerance=None, grace_days=None, missing_from_conciliation_days=0)
    run_dbt(clean_warehouse, ("build", "--select", "+fct_ifood_order_reconciliation"), as_of=date(2026, 10, 13))
    with psycopg.connect(clean_warehouse) as conn:
        rows = dict(
            conn.execute(
                "select tenant_id, divergence_reason || '/' || missing_from_conciliation_days "
                "from marts.fct_ifood_order_reconciliation"
            ).fetchall()
        )
    assert rows == {"t-default": "no_financial_events/2", "t-impatient": "missing_from_conciliation/0"}
