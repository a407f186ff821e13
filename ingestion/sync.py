"""One sync = one integration extracted over one interval into raw, recorded in ops.sync_runs.

The raw rows and the run's `success` row commit together, so a failed extraction leaves no
half-loaded interval behind; its `failed` row (with the error) commits on its own so the
failure is visible even though the data was rolled back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from psycopg.types.json import Jsonb

from ingestion import integrations, raw_writer
from ingestion.vault import Keyring
from plugins.providers.base import Interval
from plugins.providers.registry import provider_class
from plugins.providers.transport import TransportOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncResult:
    sync_run_id: int
    integration_id: int
    provider: str
    rows_fetched: int
    rows_written: int
    rows_by_table: dict[str, dict[str, int]]


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
    keyring = keyring or Keyring.load()
    window = interval.widened(lookback)
    with psycopg.connect(url) as conn:
        integration = integrations.get(conn, integration_id)
        creds = integrations.credentials(conn, keyring, integration)
        sync_run_id = conn.execute(
            "insert into ops.sync_runs (integration_id, tenant_id, provider, interval_start, interval_end, run_label) "
            "values (%s, %s, %s, %s, %s, %s) returning sync_run_id",
            (
                integration.integration_id,
                integration.tenant_id,
                integration.provider,
                window.start,
                window.end,
                run_label,
            ),
        ).fetchone()[0]
        conn.commit()
        provider = provider_class(integration.provider)(
            credentials=creds, external_ids=integration.external_ids, base_url=integration.base_url, transport=transport
        )
        try:
            stats = raw_writer.write(
                conn,
                provider.sync(window),
                tenant_id=integration.tenant_id,
                integration_id=integration.integration_id,
                sync_run_id=sync_run_id,
            )
            conn.execute(
                "update ops.sync_runs set status = 'success', finished_at = now(), rows_fetched = %s, "
                "rows_written = %s, rows_by_table = %s where sync_run_id = %s",
                (stats.rows_fetched, stats.rows_written, Jsonb(stats.by_table()), sync_run_id),
            )
            conn.commit()
        except Exception as exc:
            conn.rollback()
            conn.execute(
                "update ops.sync_runs set status = 'failed', finished_at = now(), error = %s where sync_run_id = %s",
                (f"{type(exc).__name__}: {exc}"[:2000], sync_run_id),
            )
            conn.commit()
            raise
        finally:
            provider.close()
    log.info(
        "sync %s %s/%s %s..%s fetched=%d written=%d",
        sync_run_id,
        integration.tenant_id,
        integration.provider,
        window.first_date,
        window.last_date,
        stats.rows_fetched,
        stats.rows_written,
    )
    return SyncResult(
        sync_run_id,
        integration.integration_id,
        integration.provider,
        stats.rows_fetched,
        stats.rows_written,
        stats.by_table(),
    )
