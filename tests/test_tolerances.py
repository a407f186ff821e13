"""Per-tenant tolerances: set from the CLI, applied by the next real dbt build."""

from __future__ import annotations

import json
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


def test_an_override_changes_the_next_build_for_that_tenant_only(clean_warehouse: str) -> None:
    """Two tenants with one payout each, 0.08 short: reconciled under R$ 0.10, not under R$ 0.05."""
    with psycopg.connect(clean_warehouse) as conn:
        for tenant in ("t-default", "t-strict"):
            merchant, account, cnpj = f"m-{tenant}", f"a-{tenant}", "11222333000181"
            conn.execute(
                "insert into raw.ifood_sales (tenant_id, integration_id, external_id, payload_hash, version_key, "
                "payload, merchant_id) values (%s, 1, %s, 'h', gen_random_uuid(), %s, %s)",
                (tenant, f"o-{tenant}", _sale(f"o-{tenant}", merchant, cnpj), merchant),
            )
            conn.execute(
                "insert into raw.ifood_financial_events (tenant_id, integration_id, external_id, payload_hash, "
                "version_key, payload, merchant_id) values (%s, 1, %s, 'h', gen_random_uuid(), %s, %s)",
                (tenant, f"e-{tenant}", _event(f"o-{tenant}"), merchant),
            )
            conn.execute(
                "insert into raw.pluggy_accounts (tenant_id, integration_id, external_id, payload_hash, version_key, "
                "payload, item_id) values (%s, 1, %s, 'h', gen_random_uuid(), %s, 'item')",
                (tenant, account, _account(account, cnpj)),
            )
            conn.execute(
                "insert into raw.pluggy_transactions (tenant_id, integration_id, external_id, payload_hash, "
                "version_key, payload, account_id) values (%s, 1, %s, 'h', gen_random_uuid(), %s, %s)",
                (tenant, f"tx-{tenant}", _credit(f"tx-{tenant}", account), account),
            )
        set_tolerance(conn, "t-strict", value_tolerance=parse_money("0.05", "x"), grace_days=None, note="test")
    run_dbt(clean_warehouse, ("build", "--select", "+fct_ifood_order_reconciliation"), as_of=date(2026, 10, 10))
    with psycopg.connect(clean_warehouse) as conn:
        rows = dict(
            conn.execute(
                "select tenant_id, status || '/' || coalesce(divergence_reason, '') || '/' || value_tolerance "
                "from marts.fct_ifood_order_reconciliation"
            ).fetchall()
        )
    assert rows == {"t-default": "reconciled//0.10", "t-strict": "divergent/value_mismatch/0.05"}


def _sale(order_id: str, merchant: str, cnpj: str) -> str:
    return json.dumps(
        {
            "id": order_id,
            "createdAt": "2026-10-01T15:00:00Z",
            "currentStatus": "CONCLUDED",
            "merchant": {"id": merchant, "documents": [{"type": "CNPJ", "value": cnpj}]},
            "saleGrossValue": {"bag": 40.00, "deliveryFee": 0, "serviceFee": 0},
        }
    )


def _event(order_id: str) -> str:
    return json.dumps(
        {
            "name": "ORDER_PAYMENT",
            "description": "IN_APP_PAYMENT_CREDIT",
            "trigger": "SALE_CONCLUDED",
            "dateTime": "2026-10-01T15:00:00Z",
            "hasTransferImpact": True,
            "amount": {"value": "40.00"},
            "reference": {"type": "ORDER", "id": order_id},
            "settlement": {"expectedDate": "2026-10-05"},
        }
    )


def _account(account_id: str, cnpj: str) -> str:
    return json.dumps(
        {
            "id": account_id,
            "itemId": "item",
            "type": "BANK",
            "subtype": "CHECKING_ACCOUNT",
            "name": "Conta",
            "number": "0001/1",
            "balance": 0,
            "currencyCode": "BRL",
            "taxNumber": cnpj,
            "createdAt": "2026-09-01T00:00:00.000Z",
            "updatedAt": "2026-09-01T00:00:00.000Z",
        }
    )


def _credit(txn_id: str, account_id: str) -> str:
    return json.dumps(
        {
            "id": txn_id,
            "accountId": account_id,
            "type": "CREDIT",
            "status": "POSTED",
            "amount": 39.92,
            "currencyCode": "BRL",
            "date": "2026-10-05T00:00:00.000Z",
            "description": "TED RECEBIDA IFOOD.COM",
            "paymentData": {"payer": {"documentNumber": {"type": "CNPJ", "value": "14.380.200/0001-21"}}},
            "createdAt": "2026-10-05T10:00:00.000Z",
            "updatedAt": "2026-10-05T10:00:00.000Z",
        }
    )
