"""The one way records reach raw tables: a single COPY stream, then an idempotent insert.

Records of every raw table flow through one COPY into a temporary landing table (payload as
plain text, so the stream is cheap) while the provider is still paging; then, per raw table,
one insert parses the JSON once and moves over the rows whose version is new.

Idempotency rests on `version_key`, an MD5 (as uuid) of tenant, external id and the payload
text as the provider sent it (or as we encoded a decoded object, keeping the provider's key
order). Loading the same data twice adds nothing; a changed record adds a version. One narrow
uuid key keeps the unique index cheap; hashing the bytes we already hold avoids a second JSON
parse per row in PostgreSQL. The price: a provider that reorders the keys of an unchanged
object adds one redundant version, which staging's latest-version pick absorbs.

The insert is a plain anti-join (fast) under a per-table, per-tenant advisory lock, so
concurrent syncs cannot race; a batch that repeats a record within itself falls back to
`on conflict do nothing`, which is correct but slower.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import md5
from itertools import islice

import msgspec
import psycopg
from psycopg import sql

from plugins.providers.base import RawRecord

DEFAULT_CHUNK_ROWS = 50_000
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_LANDING_COLUMNS = "raw_table, external_id, key_value, payload_hash, version_key, payload"

_INSERT = """
    insert into raw.{table}
        (tenant_id, integration_id, sync_run_id, source, received_at, external_id, payload_hash, version_key,
         payload, {key})
    select %(tenant_id)s, %(integration_id)s, %(sync_run_id)s, %(source)s, %(received_at)s,
           landed.external_id, landed.payload_hash, landed.version_key, landed.payload::jsonb, landed.key_value
    from raw_landing as landed
    where landed.raw_table = %(table)s
      and not exists (select from raw.{table} as existing where existing.version_key = landed.version_key)
    {conflict}
"""


@dataclass
class WriteStats:
    fetched: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)

    @property
    def rows_fetched(self) -> int:
        return sum(self.fetched.values())

    @property
    def rows_written(self) -> int:
        return sum(self.written.values())

    def by_table(self) -> dict[str, dict[str, int]]:
        return {t: {"fetched": self.fetched[t], "written": self.written[t]} for t in sorted(self.fetched)}


class UnknownRawTableError(ValueError):
    pass


def raw_tables() -> Mapping[str, str]:
    """Every raw table and its key column, as the providers declare them (the registry's union).

    Imported when called, not with this module: the registry imports every provider package, and
    a provider must be free to use ingestion's modules without an import cycle.
    """
    from plugins.providers.registry import RAW_TABLES

    return RAW_TABLES


def write(
    conn: psycopg.Connection,
    records: Iterable[RawRecord],
    *,
    tenant_id: str,
    integration_id: int,
    sync_run_id: int | None,
    source: str = "api",
    received_at: datetime | None = None,
    chunk_rows: int | None = None,
) -> WriteStats:
    """Land `records` in their raw tables inside the caller's transaction.

    Records move in chunks: while PostgreSQL inserts one chunk, the provider's prefetch
    thread keeps paging, so the network and the database work side by side. Chunks bound the
    memory a huge sync needs (CONCILIADOR_RAW_CHUNK_ROWS, default 50,000); they never commit
    on their own, so a sync still lands all of its interval or nothing.
    """
    chunk_rows = chunk_rows or int(os.environ.get("CONCILIADOR_RAW_CHUNK_ROWS", DEFAULT_CHUNK_ROWS))
    stats = WriteStats()
    conn.execute(
        "create temporary table if not exists raw_landing (raw_table text not null, external_id text not null, "
        "key_value text, payload_hash text not null, version_key uuid not null, payload text not null) "
        "on commit delete rows"
    )
    if received_at is not None and received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    params = {
        "tenant_id": tenant_id,
        "integration_id": integration_id,
        "sync_run_id": sync_run_id,
        "source": source,
        "received_at": received_at,
    }
    key_columns = dict(raw_tables())
    rows = _rows(records, stats, tenant_id, key_columns)
    with conn.cursor() as cur:
        while True:
            cur.execute("truncate raw_landing")
            landed: Counter[str] = Counter()
            with cur.copy(f"copy raw_landing ({_LANDING_COLUMNS}) from stdin") as copy:
                for row in islice(rows, chunk_rows):
                    copy.write_row(row)
                    landed[row[0]] += 1
            for table in sorted(landed):
                stats.written[table] += _insert_new_versions(cur, table, key_columns[table], {**params, "table": table})
            if sum(landed.values()) < chunk_rows:
                break
        cur.execute("truncate raw_landing")
    return stats


def _insert_new_versions(cur: psycopg.Cursor, table: str, key_column: str, params: dict) -> int:
    cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"raw.{table}|{params['tenant_id']}",))
    ident = {"table": sql.Identifier(table), "key": sql.Identifier(key_column)}
    try:
        with cur.connection.transaction():
            cur.execute(sql.SQL(_INSERT).format(**ident, conflict=sql.SQL("")), params)
    except psycopg.errors.UniqueViolation:
        # The batch itself holds the same version twice (e.g. a record repeated across pages).
        cur.execute(sql.SQL(_INSERT).format(**ident, conflict=sql.SQL("on conflict (version_key) do nothing")), params)
    return cur.rowcount


def _rows(
    records: Iterable[RawRecord], stats: WriteStats, tenant_id: str, key_columns: dict[str, str]
) -> Iterator[tuple[str, ...]]:
    for record in records:
        key_column = key_columns.get(record.table)
        if key_column is None:
            raise UnknownRawTableError(f"No raw table {record.table!r}; known: {', '.join(key_columns)}")
        stats.fetched[record.table] += 1
        payload = record.payload
        data = bytes(payload) if isinstance(payload, bytes | msgspec.Raw) else _ENCODER.encode(payload)
        payload_hash = md5(data).hexdigest()
        version_key = md5(f"{tenant_id}\x1f{record.external_id}\x1f{payload_hash}".encode()).hexdigest()
        yield record.table, record.external_id, record.keys.get(key_column), payload_hash, version_key, data.decode()
