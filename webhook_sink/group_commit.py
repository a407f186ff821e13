"""Group commit: many requests' deliveries inserted and committed together, each request told after the commit.

A commit waits for the WAL to reach disk (an fsync); one per request would cap the sink at the disk's
fsync rate. Instead each request puts its admission on a queue and awaits a future; a writer task
takes everything queued (up to `max_batch`), inserts it in one statement and commits once, then
resolves every future: True for a new delivery, False for a redelivery (the insert's
`on conflict do nothing` skipped it). Only then does the request answer 202, so an acknowledged
delivery is always on disk. While one writer waits for its commit, the other writers fill and send
the next batches, so the batch size follows the load by itself: one row when idle, dozens under load.

When the database is unreachable (connection refused, lost mid-batch, a commit that does not come
back within `commit_timeout_s`) every request of the batch gets `DatabaseUnavailable` (the sink
answers 503 with Retry-After); a batch whose commit outcome is unknown may still have been stored,
which is harmless: the platform retries, and the retry is a redelivery. For `down_for_s` after a
failure new requests are refused at once rather than queued behind reconnection attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import psycopg

from ingestion.webhook_landing import STORE_SQL, Admission, store_params

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The delivery could not be committed (the database is down, unreachable or too slow)."""


def _expire(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_exception(DatabaseUnavailable("the delivery's commit did not complete in time"))


class GroupCommitter:
    """Stores admissions in `ops.webhook_deliveries`, many per commit, from `writers` connections."""

    def __init__(
        self,
        url: str,
        *,
        writers: int = 2,
        max_batch: int = 256,
        commit_timeout_s: float = 10.0,
        connect_timeout_s: int = 3,
        down_for_s: float = 0.5,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if writers < 1 or max_batch < 1:
            raise ValueError("writers and max_batch must be at least 1")
        self.url = url
        self.writers = writers
        self.max_batch = max_batch
        self.commit_timeout_s = commit_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.down_for_s = down_for_s
        self._on_batch = on_batch
        self._queue: asyncio.Queue[tuple[Admission, asyncio.Future[bool]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._down_until = 0.0

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._writer(i), name=f"group-commit-{i}") for i in range(self.writers)]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(DatabaseUnavailable("the sink is shutting down"))

    @property
    def available(self) -> bool:
        """False for a moment after a failed batch: requests are refused without trying."""
        return time.monotonic() >= self._down_until

    async def store(self, admission: Admission) -> bool:
        """Commit `admission`; True when it is new, False for a redelivery. DatabaseUnavailable otherwise."""
        if not self.available:
            raise DatabaseUnavailable("the database was unavailable a moment ago")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._queue.put_nowait((admission, future))
        # A bound on the wait even if a writer hangs (a timer is cheaper per request than wait_for).
        timer = loop.call_later(self.commit_timeout_s + self.connect_timeout_s, _expire, future)
        try:
            return await future
        finally:
            timer.cancel()

    async def _writer(self, index: int) -> None:
        conn: psycopg.AsyncConnection | None = None
        try:
            while True:
                batch = [await self._queue.get()]
                while len(batch) < self.max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                try:
                    if conn is None or conn.closed:
                        conn = await psycopg.AsyncConnection.connect(
                            self.url, connect_timeout=self.connect_timeout_s, autocommit=True
                        )
                    new = await asyncio.wait_for(self._commit(conn, batch), self.commit_timeout_s)
                except Exception as exc:  # the database (or the connection to it) failed: nothing is acknowledged
                    self._down_until = time.monotonic() + self.down_for_s
                    log.warning("group commit of %d deliveries failed: %s", len(batch), type(exc).__name__)
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(DatabaseUnavailable(type(exc).__name__))
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            await conn.close()
                    conn = None
                    continue
                if self._on_batch is not None:
                    self._on_batch(len(batch))
                for (_, future), is_new in zip(batch, new, strict=True):
                    if not future.done():
                        future.set_result(is_new)
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()

    async def _commit(
        self, conn: psycopg.AsyncConnection, batch: list[tuple[Admission, asyncio.Future[bool]]]
    ) -> list[bool]:
        """Insert the batch in one statement, committed by itself; per admission, whether its row is new.

        The connection is in autocommit, so the statement is its own transaction: the server commits
        it (WAL flushed) before it reports the statement done, and only then does `execute` return.
        One round trip per batch instead of two.
        """
        async with conn.cursor() as cur:
            await cur.execute(STORE_SQL, store_params([admission for admission, _ in batch]), prepare=True)
            inserted = {(row[1], row[2]) for row in await cur.fetchall()}
        # The same event twice in one batch: the row is new for the first of them only.
        new, seen = [], set()
        for admission, _ in batch:
            key = (admission.integration_id, admission.event_id)
            new.append(key in inserted and key not in seen)
            seen.add(key)
        return new
