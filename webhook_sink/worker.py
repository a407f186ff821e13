"""The worker: turns landed deliveries into raw rows, retries failures, keeps the dead-letter queue.

Each pass claims up to `batch` due `pending` deliveries with `FOR UPDATE SKIP LOCKED` (so several
workers, in as many processes as wanted, never take the same one: a row one worker holds is
invisible to the others' claims until it commits), processes each in a savepoint
(`ingestion.webhook_landing.process`: parse, raw write, mark `done`; or record the failure with its
backoff, or dead-letter it), and commits the pass. A pass that found work is followed at once by the
next; an empty one sleeps `idle_s`. A lost database connection is not a delivery's failure: the
worker reconnects and the rows it held, never committed, are pending again for whoever claims next.

`dead_letters` lists the dead-letter queue; `replay` puts deliveries from it back in the queue with
their attempts reset (after the cause is fixed: a parser, a missing table).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ingestion.webhook_landing import Backoff, claim, process

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pass:
    """What one pass did: deliveries done, put back for a retry, and sent to the dead-letter queue."""

    done: int = 0
    retried: int = 0
    dead: int = 0
    rows_written: int = 0

    @property
    def claimed(self) -> int:
        return self.done + self.retried + self.dead


def run_once(conn: psycopg.Connection, *, batch: int = 100, backoff: Backoff | None = None) -> Pass:
    """Claim and process one batch of due deliveries, then commit."""
    done = retried = dead = written = 0
    try:
        for row in claim(conn, limit=batch):
            outcome = process(conn, row, backoff or Backoff())
            if outcome.error is None:
                done, written = done + 1, written + outcome.rows_written
            elif outcome.dead:
                dead += 1
            else:
                retried += 1
    except BaseException:
        if not conn.closed:
            conn.rollback()
        raise
    conn.commit()
    return Pass(done, retried, dead, written)


def run(
    url: str,
    *,
    batch: int = 100,
    idle_s: float = 1.0,
    backoff: Backoff | None = None,
    stop: threading.Event | None = None,
    until_idle: bool = False,
) -> Pass:
    """Work until `stop` is set (or, with `until_idle`, until a pass finds nothing due); totals."""
    stop = stop or threading.Event()
    total = Pass()
    conn: psycopg.Connection | None = None
    while not stop.is_set():
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(url, connect_timeout=5)
            result = run_once(conn, batch=batch, backoff=backoff)
        except psycopg.OperationalError as exc:
            log.warning("worker lost the warehouse (%s); reconnecting", type(exc).__name__)
            if conn is not None:
                conn.close()
            conn = None
            stop.wait(min(idle_s, 1.0) if idle_s > 0 else 0.1)
            continue
        total = Pass(
            total.done + result.done,
            total.retried + result.retried,
            total.dead + result.dead,
            total.rows_written + result.rows_written,
        )
        if result.claimed:
            log.info("worker: %d done, %d to retry, %d dead-lettered", result.done, result.retried, result.dead)
            continue
        if until_idle:
            break
        stop.wait(idle_s)
    if conn is not None:
        conn.close()
    return total


def dead_letters(
    conn: psycopg.Connection, *, limit: int = 100, integration_id: int | None = None
) -> list[dict[str, Any]]:
    """The dead-letter queue, newest first: what each delivery is and why it failed (never its body)."""
    where = "status = 'dead'" + (" and integration_id = %s" if integration_id is not None else "")
    params: tuple[Any, ...] = (integration_id, limit) if integration_id is not None else (limit,)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select delivery_id, integration_id, tenant_id, provider, event_id, event_type, received_at, attempts, "
            f"last_error, length(body) as body_bytes from ops.webhook_deliveries where {where} "
            "order by delivery_id desc limit %s",
            params,
        )
        return cur.fetchall()


def replay(conn: psycopg.Connection, delivery_ids: list[int] | None = None, *, now: datetime | None = None) -> int:
    """Put dead deliveries (the given ids, or all) back in the queue with their attempts reset; how many."""
    where = "status = 'dead'" + (" and delivery_id = any(%s)" if delivery_ids is not None else "")
    params: list[Any] = [now]
    if delivery_ids is not None:
        params.append(delivery_ids)
    count = conn.execute(
        "update ops.webhook_deliveries set status = 'pending', attempts = 0, "
        f"next_attempt_at = coalesce(%s, now()) where {where}",
        params,
    ).rowcount
    conn.commit()
    return count
