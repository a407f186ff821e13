"""One sync = one integration extracted over one interval into raw, recorded in ops.sync_runs.

The raw rows and the run's `success` row commit together, so a failed extraction leaves no
half-loaded interval behind; its `failed` row (with the error) commits on its own so the
failure is visible even though the data was rolled back.

The run row is written before anything can fail (key, decryption, provider set-up), so every
attempt leaves a trace. While a sync runs, its connection holds a session advisory lock on
the run id; PostgreSQL releases it when that connection ends for any reason, `kill -9`
included. A `running` row whose lock nobody holds therefore belongs to a dead process, and the
next sync marks it `abandoned` instead of leaving it running forever.

A provider whose platform has no list endpoint (`Provider.known_ids_from`) is handed the ids to
re-read by id: the ones of this integration seen in the (widened) interval, and the ones whose
latest status in raw is not final (`known_ids`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from ingestion import integrations, raw_writer
from ingestion.errors import UserError
from ingestion.vault import Keyring
from plugins.providers.base import Interval, KnownIds
from plugins.providers.errors import ProviderError
from plugins.providers.registry import provider_class
from plugins.providers.transport import TransportOptions

log = logging.getLogger(__name__)

# Advisory lock namespace (first key of the two-key form) for "this sync run is alive".
_RUN_LOCK_NAMESPACE = 72720
_ABANDONED_ERROR = (
    "abandoned: the process running this sync ended without recording an outcome "
    "(killed, or its database connection was lost); nothing of its interval was kept"
)


@dataclass(frozen=True)
class SyncResult:
    sync_run_id: int
    integration_id: int
    provider: str
    rows_fetched: int
    rows_written: int
    rows_by_table: dict[str, dict[str, int]]
    seconds: float


def is_permanent(exc: BaseException) -> bool:
    """Would the same sync fail again however long we wait? (bad credentials, missing key, …)

    Provider errors say so themselves; a UserError is a configuration problem a person must
    fix (a missing key file, an integration that does not exist).
    """
    if isinstance(exc, ProviderError):
        return not exc.retryable
    return isinstance(exc, UserError)


def advice_for(exc: BaseException) -> str | None:
    """The one sentence telling a person what to do about `exc`, when we know it."""
    if isinstance(exc, ProviderError):
        return exc.advice
    return None


def run_sync(
    url: str,
    integration_id: int,
    interval: Interval,
    *,
    lookback: timedelta = timedelta(0),
    run_label: str | None = None,
    keyring: Keyring | None = None,
    transport: TransportOptions | None = None,
) -> SyncResult:
    """Extract one integration over `interval` (widened by `lookback`) into raw, all or nothing.

    `transport` (timeouts, retries, sleep) is handed to the provider; None means its defaults.
    """
    window = interval.widened(lookback)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        integration = integrations.get(conn, integration_id)
        abandoned = mark_abandoned_runs(conn)
        if abandoned:
            log.warning("marked %d sync run(s) abandoned: %s", len(abandoned), abandoned)
        sync_run_id = _open_run(conn, integration, window, run_label)
        provider = None
        try:
            creds = integrations.credentials(conn, keyring or Keyring.load(), integration)
            cls = provider_class(integration.provider)
            ids = known_ids(conn, cls.known_ids_from, integration.integration_id, window) if cls.known_ids_from else []
            provider = cls(
                credentials=creds,
                external_ids=integration.external_ids,
                base_url=integration.base_url,
                transport=transport,
                known_ids=ids,
            )
            stats = raw_writer.write(
                conn,
                provider.sync(window),
                tenant_id=integration.tenant_id,
                integration_id=integration.integration_id,
                sync_run_id=sync_run_id,
            )
            conn.execute(
                "update ops.sync_runs set status = 'success', finished_at = clock_timestamp(), rows_fetched = %s, "
                "rows_written = %s, rows_by_table = %s where sync_run_id = %s",
                (stats.rows_fetched, stats.rows_written, Jsonb(stats.by_table()), sync_run_id),
            )
            conn.commit()
        except Exception as exc:
            _record_failure(conn, sync_run_id, exc)
            raise
        finally:
            if provider is not None:
                provider.close()
            _release_run_lock(conn, sync_run_id)
    seconds = time.perf_counter() - started
    log.info(
        "sync %s %s/%s %s..%s fetched=%d written=%d in %.1fs",
        sync_run_id,
        integration.tenant_id,
        integration.provider,
        window.first_date,
        window.last_date,
        stats.rows_fetched,
        stats.rows_written,
        seconds,
    )
    return SyncResult(
        sync_run_id,
        integration.integration_id,
        integration.provider,
        stats.rows_fetched,
        stats.rows_written,
        stats.by_table(),
        round(seconds, 3),
    )


_KNOWN_IDS = """
    with seen as (
        select object_id, bool_or(seen_at >= %(start)s and seen_at < %(end)s) as seen_in_window
        from ({sightings}) as sightings
        where object_id is not null
        group by object_id
    ),

    latest as (
        -- the status as last landed; on a tie, a status that is not final wins (re-read rather than miss)
        select distinct on (external_id) external_id as object_id, {status} as status
        from raw.{status_table}
        where integration_id = %(integration_id)s
        order by external_id, loaded_at desc, ({status} = any(%(final)s)) asc
    )

    select seen.object_id
    from seen
    left join latest on latest.object_id = seen.object_id
    where seen.seen_in_window
        or latest.status is null
        or not (latest.status = any(%(final)s))
    order by seen.object_id
"""
# When the warehouse first saw an object: a webhook row's `received_at` (when the platform delivered
# it; a replay of recorded deliveries passes their original time), else when the row was loaded.
_SIGHTING = (
    "select {column} as object_id, coalesce(received_at, loaded_at) as seen_at from raw.{table} "
    "where integration_id = %(integration_id)s"
)


def known_ids(conn: psycopg.Connection, spec: KnownIds, integration_id: int, window: Interval) -> list[str]:
    """The ids a provider without a list endpoint must re-read for `window`, sorted, each once.

    Every id of this integration seen inside the window, by any sighting (a webhook row when the
    platform delivered it, its `received_at`, so a replay of recorded deliveries counts in their own
    days; any other row when it was loaded), so a day's objects are confirmed by that day's sync and
    again by any re-run or backfill of it, and an object a platform notifies again after it looked
    final (a refund or chargeback of a paid sale) is re-read the day it says so; and every id whose
    latest status is not final (or was never confirmed), however old, until the platform says it is. Tables and columns come from the provider's declaration and
    must be raw tables the registry knows.
    """
    tables = raw_writer.raw_tables()
    for table, column in (*spec.seen_in.items(), spec.status_in):
        if table not in tables or column not in ("external_id", tables[table]):
            raise ValueError(f"known ids: {column!r} is not a column of the raw table {table!r}")
    sightings = sql.SQL(" union all ").join(
        sql.SQL(_SIGHTING).format(column=sql.Identifier(column), table=sql.Identifier(table))
        for table, column in spec.seen_in.items()
    )
    status_table, status_column = spec.status_in
    query = sql.SQL(_KNOWN_IDS).format(
        sightings=sightings, status=sql.Identifier(status_column), status_table=sql.Identifier(status_table)
    )
    params = {
        "integration_id": integration_id,
        "final": sorted(spec.final_statuses),
        "start": window.start,
        "end": window.end,
    }
    return [row[0] for row in conn.execute(query, params).fetchall()]


def mark_abandoned_runs(conn: psycopg.Connection) -> list[int]:
    """Mark `running` rows whose process is gone as `abandoned`; their ids.

    A live sync holds its run's advisory lock for as long as its connection lives, so a lock
    we can take means nobody is running that sync any more. Rows another detector is
    examining right now are skipped (SKIP LOCKED), never double-marked.
    """
    abandoned: list[int] = []
    with conn.transaction():
        running = conn.execute(
            "select sync_run_id from ops.sync_runs where status = 'running' for update skip locked"
        ).fetchall()
        for (run_id,) in running:
            if conn.execute("select pg_try_advisory_xact_lock(%s, %s)", _lock_key(run_id)).fetchone()[0]:
                conn.execute(
                    "update ops.sync_runs set status = 'abandoned', finished_at = clock_timestamp(), error = %s, "
                    "error_kind = 'Abandoned', retryable = true where sync_run_id = %s",
                    (_ABANDONED_ERROR, run_id),
                )
                abandoned.append(run_id)
    return abandoned


def _open_run(
    conn: psycopg.Connection, integration: integrations.Integration, window: Interval, label: str | None
) -> int:
    """Insert the `running` row and take its liveness lock before anyone can see the row."""
    sync_run_id = conn.execute(
        "insert into ops.sync_runs (integration_id, tenant_id, provider, interval_start, interval_end, run_label, "
        "started_at) values (%s, %s, %s, %s, %s, %s, clock_timestamp()) returning sync_run_id",
        (integration.integration_id, integration.tenant_id, integration.provider, window.start, window.end, label),
    ).fetchone()[0]
    conn.execute("select pg_advisory_lock(%s, %s)", _lock_key(sync_run_id))
    conn.commit()
    return sync_run_id


def _record_failure(conn: psycopg.Connection, sync_run_id: int, exc: BaseException) -> None:
    """Roll back the interval's rows and keep the failure: what, whether waiting helps, what to do."""
    try:
        conn.rollback()
        conn.execute(
            "update ops.sync_runs set status = 'failed', finished_at = clock_timestamp(), error = %s, "
            "error_kind = %s, retryable = %s, advice = %s where sync_run_id = %s",
            (
                f"{type(exc).__name__}: {exc}"[:2000],
                type(exc).__name__,
                not is_permanent(exc),
                advice_for(exc),
                sync_run_id,
            ),
        )
        conn.commit()
    except psycopg.Error:
        # The connection itself is gone: the row stays `running` without a lock holder, and the
        # next sync marks it abandoned. The original error is what the caller must see.
        log.exception("could not record the failure of sync run %s", sync_run_id)


def _release_run_lock(conn: psycopg.Connection, sync_run_id: int) -> None:
    if conn.closed:
        return
    try:
        conn.execute("select pg_advisory_unlock(%s, %s)", _lock_key(sync_run_id))
        conn.commit()
    except psycopg.Error:
        log.warning("could not release the lock of sync run %s; it ends with the connection", sync_run_id)


def _lock_key(sync_run_id: int) -> tuple[int, int]:
    return _RUN_LOCK_NAMESPACE, sync_run_id % 2_147_483_647
