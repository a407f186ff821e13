"""Shared fixtures: a real PostgreSQL database per test session.

With DATABASE_URL set, the session creates (and drops) its own database on that server;
without it, it uses the embedded server under a test-only state folder, so running the tests
never touches the demo's data. Either way DATABASE_URL is pointed at the test database for
the session, so subprocesses (dbt, `airflow dags test`) land in the same place.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("CONCILIADOR_HOME", str(ROOT / ".conciliador" / "test"))
os.environ.setdefault("CONCILIADOR_PG_PORT", "54339")

from ingestion.warehouse import check_reachable, database_url, ensure_schema, with_database  # noqa: E402

WAREHOUSE_TABLES = (
    "raw.pluggy_accounts",
    "raw.pluggy_transactions",
    "raw.ifood_sales",
    "raw.ifood_financial_events",
    "ops.sync_runs",
    "ops.alerts",
    "control.integrations",
    "control.tolerances",
)


@pytest.fixture(scope="session")
def warehouse_url() -> str:
    server_url = database_url()
    check_reachable(server_url)
    name = f"conciliador_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(server_url, name)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    ensure_schema(url)
    yield url
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def _truncate(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"truncate {', '.join(WAREHOUSE_TABLES)} restart identity cascade")
    return url


@pytest.fixture
def clean_warehouse(warehouse_url: str) -> str:
    """An empty warehouse (schemas kept) for tests that count rows."""
    return _truncate(warehouse_url)


@pytest.fixture(scope="module")
def clean_module_warehouse(warehouse_url: str) -> str:
    """An empty warehouse shared by the tests of one module (e.g. one expensive DAG run)."""
    return _truncate(warehouse_url)
