"""The raw writer against a real PostgreSQL: idempotent loads, versions, exact money."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from ingestion import raw_writer
from plugins.providers.base import RawRecord


def _txn(txn_id: str, amount: str, description: str = "PIX RECEBIDO") -> RawRecord:
    payload = {"id": txn_id, "amount": Decimal(amount), "description": description, "date": "2026-10-01T00:00:00.000Z"}
    return RawRecord("pluggy_transactions", txn_id, payload, {"account_id": "acc-1"})


def _load(url: str, records: list[RawRecord]) -> raw_writer.WriteStats:
    with psycopg.connect(url) as conn:
        stats = raw_writer.write(conn, records, tenant_id="t1", integration_id=1, sync_run_id=None)
        conn.commit()
    return stats


def _count(url: str, table: str = "raw.pluggy_transactions") -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]


def test_loading_the_same_records_twice_adds_nothing(clean_warehouse: str) -> None:
    records = [_txn(f"t{i}", f"{i}.10") for i in range(50)]
    first = _load(clean_warehouse, records)
    second = _load(clean_warehouse, records)
    assert (first.rows_fetched, first.rows_written) == (50, 50)
    assert (second.rows_fetched, second.rows_written) == (50, 0)
    assert _count(clean_warehouse) == 50


def test_a_changed_record_adds_a_version_and_keeps_the_old_one(clean_warehouse: str) -> None:
    _load(clean_warehouse, [_txn("t1", "10.00")])
    stats = _load(clean_warehouse, [_txn("t1", "10.00", description="PIX RECEBIDO - ESTORNADO")])
    assert stats.rows_written == 1
    with psycopg.connect(clean_warehouse) as conn:
        versions = conn.execute(
            "select payload->>'description' from raw.pluggy_transactions where external_id = 't1' order by loaded_at"
        ).fetchall()
    assert [v[0] for v in versions] == ["PIX RECEBIDO", "PIX RECEBIDO - ESTORNADO"]


def test_amounts_survive_exactly(clean_warehouse: str) -> None:
    _load(clean_warehouse, [_txn("t1", "0.10"), _txn("t2", "123456789012.35"), _txn("t3", "-212.45")])
    with psycopg.connect(clean_warehouse) as conn:
        amounts = dict(conn.execute("select external_id, (payload->>'amount')::numeric from raw.pluggy_transactions"))
    assert amounts == {"t1": Decimal("0.10"), "t2": Decimal("123456789012.35"), "t3": Decimal("-212.45")}


def test_records_go_to_their_own_tables_with_their_key_column(clean_warehouse: str) -> None:
    sale = RawRecord("ifood_sales", "o1", {"id": "o1"}, {"merchant_id": "m1"})
    stats = _load(clean_warehouse, [sale, _txn("t1", "1.00")])
    assert stats.by_table() == {
        "ifood_sales": {"fetched": 1, "written": 1},
        "pluggy_transactions": {"fetched": 1, "written": 1},
    }
    with psycopg.connect(clean_warehouse) as conn:
        assert conn.execute("select merchant_id from raw.ifood_sales").fetchone() == ("m1",)


def test_a_failure_mid_stream_leaves_what_was_committed_before(clean_warehouse: str) -> None:
    _load(clean_warehouse, [_txn("t1", "1.00")])

    def broken():
        yield _txn("t2", "2.00")
        raise RuntimeError("provider went away")

    with psycopg.connect(clean_warehouse) as conn:
        with pytest.raises(RuntimeError):
            raw_writer.write(conn, broken(), tenant_id="t1", integration_id=1, sync_run_id=None)
        conn.rollback()
    assert _count(clean_warehouse) == 1


def test_an_unknown_raw_table_is_refused_by_name(clean_warehouse: str) -> None:
    with psycopg.connect(clean_warehouse) as conn, pytest.raises(raw_writer.UnknownRawTableError, match="nope"):
        raw_writer.write(conn, [RawRecord("nope", "x", {})], tenant_id="t1", integration_id=1, sync_run_id=None)


def test_a_record_repeated_within_one_batch_lands_once(clean_warehouse: str) -> None:
    stats = _load(clean_warehouse, [_txn("t1", "1.00"), _txn("t2", "2.00"), _txn("t1", "1.00")])
    assert (stats.rows_fetched, stats.rows_written) == (3, 2)
    assert _count(clean_warehouse) == 2


def test_tenants_do_not_share_versions(clean_warehouse: str) -> None:
    _load(clean_warehouse, [_txn("t1", "1.00")])
    with psycopg.connect(clean_warehouse) as conn:
        stats = raw_writer.write(conn, [_txn("t1", "1.00")], tenant_id="t2", integration_id=2, sync_run_id=None)
        conn.commit()
    assert stats.rows_written == 1


def test_chunked_loads_match_a_single_chunk(clean_warehouse: str) -> None:
    records = [_txn(f"t{i % 7}", f"{i % 7}.00") for i in range(20)] + [_txn("t0", "9.99")]
    with psycopg.connect(clean_warehouse) as conn:
        stats = raw_writer.write(conn, records, tenant_id="t1", integration_id=1, sync_run_id=None, chunk_rows=3)
        conn.commit()
    assert (stats.rows_fetched, stats.rows_written) == (21, 8)
    assert _count(clean_warehouse) == 8
