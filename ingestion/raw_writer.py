"""The one way records reach raw tables: a single COPY stream, then an idempotent insert.

Records of every raw table flow through one COPY into a temporary landing table while the
provider is still paging (so HTTP, JSON decoding and PostgreSQL's parsing overlap), then one
`insert … on conflict do nothing` per raw table moves them over. The conflict key is
(tenant_id, external_id, payload_hash) with the hash taken by PostgreSQL over the canonical
jsonb text: loading the same data twice adds nothing, a changed record adds a version.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import msgspec
import psycopg
from psycopg import sql

from plugins.providers.base import RawRecord

# raw table -> the one extracted key column it carries (see ingestion/schema.sql)
RAW_TABLES: dict[str, str] = {
    "pluggy_accounts": "item_id",
    "pluggy_transactions": "account_id",
    "ifood_sales": "merchant_id",
    "ifood_financial_events": "merchant_id",
}

_ENCODER = msgspec.json.Encoder(decimal_format="number")


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


def write(
    conn: psycopg.Connection,
    records: Iterable[RawRecord],
    *,
    tenant_id: str,
    integration_id: int,
    sync_run_id: int | None,
    source: str = "api",
) -> WriteStats:
    """Land `records` in their raw tables inside the caller's transaction."""
    stats = WriteStats()
    conn.execute(
        "create temporary table if not exists raw_landing "
        "(raw_table text not null, external_id text not null, key_value text, payload jsonb not null) "
        "on commit delete rows"
    )
    conn.execute("truncate raw_landing")
    with conn.cursor() as cur:
        with cur.copy("copy raw_landing (raw_table, external_id, key_value, payload) from stdin") as copy:
            for row in _rows(records, stats):
                copy.write_row(row)
        for table in sorted(stats.fetched):
            key_column = RAW_TABLES[table]
            cur.execute(
                sql.SQL(
                    """
                    insert into raw.{table}
                        (tenant_id, integration_id, sync_run_id, source, external_id, payload_hash, payload, {key})
                    select %s, %s, %s, %s, external_id, md5(payload::text), payload, key_value
                    from raw_landing
                    where raw_table = %s
                    on conflict (tenant_id, external_id, payload_hash) do nothing
                    """
                ).format(table=sql.Identifier(table), key=sql.Identifier(key_column)),
                (tenant_id, integration_id, sync_run_id, source, table),
            )
            stats.written[table] = cur.rowcount
    conn.execute("truncate raw_landing")
    return stats


def _rows(records: Iterable[RawRecord], stats: WriteStats) -> Iterator[tuple[str, str, str | None, str]]:
    for record in records:
        key_column = RAW_TABLES.get(record.table)
        if key_column is None:
            raise UnknownRawTableError(f"No raw table {record.table!r}; known: {', '.join(RAW_TABLES)}")
        stats.fetched[record.table] += 1
        yield record.table, record.external_id, record.keys.get(key_column), _ENCODER.encode(record.payload).decode()
