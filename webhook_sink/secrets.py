"""Each integration's webhook target (scheme and secret), cached in memory and refreshed on rotation.

Opening a secret costs a query and an AES-GCM decryption; a sink doing that per request would spend
more on it than on the delivery. So targets are cached per integration, and the cache is kept honest
two ways: every `refresh_s` one query reads every integration's `updated_at` and drops the entries
that changed (`integrations add` with a new secret, `rotate`, `disable` all touch it), and a request
that fails verification against an entry older than `recheck_after_s` reloads it once and tries
again, so a rotated secret is picked up at its first delivery. Unknown or unusable integrations are
cached too (negatively), so a scanner cannot make every request a database query.

Secrets live only in this process's memory: never logged, never in a column in plain text.
Loading runs a short synchronous connection in a thread (misses are rare); a database that cannot
be reached, or a secret sealed under a key this process does not hold (after the keys are read
again once), is `DatabaseUnavailable` (503: the platform retries), never "unknown integration" (404).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime

import psycopg

from ingestion.errors import UserError
from ingestion.vault import Keyring
from ingestion.webhook_landing import Target, WebhookTargetError, target, webhook_integration_ids
from webhook_sink.group_commit import DatabaseUnavailable

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    loaded_at: float
    target: Target | None
    error: WebhookTargetError | None
    updated_at: datetime | None


class TargetCache:
    def __init__(
        self,
        url: str,
        keyring: Keyring,
        *,
        refresh_s: float = 5.0,
        recheck_after_s: float = 1.0,
        connect_timeout_s: int = 3,
    ) -> None:
        self.url = url
        self.keyring = keyring
        self.refresh_s = refresh_s
        self.recheck_after_s = recheck_after_s
        self.connect_timeout_s = connect_timeout_s
        self._entries: dict[int, _Entry] = {}
        self._providers: dict[str, tuple[float, list[int]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._refresher(), name="target-cache-refresh")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def get(self, integration_id: int) -> Target:
        """The target of `integration_id`; WebhookTargetError (404) or DatabaseUnavailable (503)."""
        entry = self._entries.get(integration_id)
        if entry is None or (entry.target is None and time.monotonic() - entry.loaded_at > self.refresh_s):
            entry = await self._load(integration_id)
        if entry.error is not None:
            raise entry.error
        assert entry.target is not None
        return entry.target

    async def reload_if_stale(self, integration_id: int) -> Target | None:
        """After a failed verification: the entry reloaded if it is older than `recheck_after_s`, else None."""
        entry = self._entries.get(integration_id)
        if entry is not None and time.monotonic() - entry.loaded_at < self.recheck_after_s:
            return None
        entry = await self._load(integration_id)
        return entry.target

    async def for_provider(self, provider: str) -> list[Target]:
        """Every usable target of `provider` (a bare provider URL is for whichever of them verifies)."""
        cached = self._providers.get(provider)
        if cached is None or time.monotonic() - cached[0] > self.refresh_s:
            ids = await self._in_thread(lambda conn: webhook_integration_ids(conn, provider))
            cached = self._providers[provider] = (time.monotonic(), ids)
        found = []
        for integration_id in cached[1]:
            with contextlib.suppress(WebhookTargetError):
                found.append(await self.get(integration_id))
        return found

    async def _load(self, integration_id: int) -> _Entry:
        def load(conn: psycopg.Connection) -> _Entry:
            for attempt in range(2):
                try:
                    found = target(conn, integration_id, self.keyring)
                except WebhookTargetError as exc:
                    return _Entry(time.monotonic(), None, exc, None)
                except UserError:  # the key that sealed the secret is not loaded: read the keys again, once
                    if attempt:
                        log.error(
                            "integration %s: its webhook secret cannot be opened with the keys in force", integration_id
                        )
                        raise DatabaseUnavailable("the webhook secret cannot be opened") from None
                    self.keyring = Keyring.load()
                    continue
                return _Entry(time.monotonic(), found, None, found.updated_at)
            raise AssertionError("unreachable")

        entry = await self._in_thread(load)
        self._entries[integration_id] = entry
        return entry

    async def _in_thread(self, work):
        def run():
            try:
                with psycopg.connect(self.url, connect_timeout=self.connect_timeout_s) as conn:
                    return work(conn)
            except psycopg.OperationalError as exc:
                raise DatabaseUnavailable(type(exc).__name__) from None

        return await asyncio.to_thread(run)

    async def _refresher(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            if not self._entries:
                continue
            try:
                rows = await self._in_thread(
                    lambda conn: conn.execute("select integration_id, updated_at from control.integrations").fetchall()
                )
            except DatabaseUnavailable:
                continue
            current = dict(rows)
            for integration_id, entry in list(self._entries.items()):
                if entry.target is not None and current.get(integration_id) != entry.updated_at:
                    log.info(
                        "integration %s changed; its webhook secret is reloaded on its next delivery", integration_id
                    )
                    self._entries.pop(integration_id, None)
