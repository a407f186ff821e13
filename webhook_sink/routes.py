"""What the sink answers: 202 once a delivery is committed, and a clear status for everything else.

| answer | when |
|---|---|
| 202 | verified and committed: new, a redelivery (nothing new stored), or a body that did not parse (kept in the dead-letter queue) |
| 401 | the signature or token is missing, wrong or stale (counted; nothing stored) |
| 404 | no such provider, no such integration, or one that takes no webhooks |
| 405 | not a POST |
| 413 | the body is over the limit |
| 503 | the database is unavailable (with Retry-After); never 202 then |

No provider is named here: the path's provider is looked up in the registry, its scheme does the
rest. Messages never quote a header or the body.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qsl

import msgspec
import psycopg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ingestion.webhook_landing import Admission, WebhookTargetError, admit
from plugins.providers.errors import MissingHeaderError, StaleTimestampError, WebhookError
from plugins.providers.registry import PROVIDERS
from webhook_sink.group_commit import DatabaseUnavailable
from webhook_sink.state import SinkState

PREFIX = "/integrations/webhooks/"
_JSON = (b"content-type", b"application/json")


class _TooLarge(Exception):
    pass


def _reason(exc: WebhookError) -> str:
    if isinstance(exc, MissingHeaderError):
        return "missing_header"
    if isinstance(exc, StaleTimestampError):
        return "stale_timestamp"
    return "bad_signature"


class WebhookEndpoint:
    """`POST /integrations/webhooks/{provider}[/{integration}]`, as a plain ASGI callable.

    The hot path of the sink, so it skips the framework: no routing table, no Request object, the
    answer sent as two ASGI messages. On a 2-core machine that is a good share of the throughput
    (docs/webhook-sink.md, "Throughput").
    """

    def __init__(self, state: SinkState) -> None:
        self.state = state
        self._answers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        parts = scope["path"][len(PREFIX) :].split("/")
        provider = parts[0]
        cls = PROVIDERS.get(provider)
        label = provider if cls is not None else "unknown"
        try:
            if len(parts) > 2 or not provider:
                status, body, extra = 404, _error("no such address"), ()
            elif scope["method"] != "POST":
                status, body, extra = 405, _error("only POST is allowed"), ((b"allow", b"POST"),)
            else:
                status, body, extra = await self._receive(
                    scope, receive, provider, parts[1] if len(parts) == 2 else None, label, cls
                )
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [_JSON, (b"content-length", str(len(body)).encode()), *extra],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            self.state.metrics.latency.labels(label).observe(time.perf_counter() - started)

    async def _receive(
        self, scope: dict[str, Any], receive: Any, provider: str, given: str | None, label: str, cls: Any
    ) -> tuple[int, bytes, tuple]:
        state = self.state
        metrics = state.metrics
        if cls is None or cls.webhook is None:
            metrics.rejected.labels(label, "unknown_provider").inc()
            return 404, _error(f"no provider {provider!r} takes webhooks here"), ()
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        try:
            body = await _body(receive, headers.get("content-length"), state.settings.max_body_bytes)
        except _TooLarge:
            metrics.rejected.labels(label, "too_large").inc()
            return 413, _error(f"the body is over {state.settings.max_body_bytes} bytes"), ()
        raw_query = scope.get("query_string", b"")
        query = dict(parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)) if raw_query else {}
        try:
            admission = await _admit(state, provider, given, headers, query, body)
        except WebhookTargetError:
            metrics.rejected.labels(label, "unknown_integration").inc()
            return 404, _error("no integration at this address takes webhooks"), ()
        except WebhookError as exc:
            metrics.rejected.labels(label, _reason(exc)).inc()
            return 401, _error("the request does not authenticate"), ()
        except DatabaseUnavailable:
            return self._unavailable(label)
        try:
            new = await state.committer.store(admission)
        except DatabaseUnavailable:
            return self._unavailable(label)
        reason = "dead_letter" if admission.parse_error else ("new" if new else "redelivery")
        counter = self._answers.get((label, reason))
        if counter is None:
            counter = self._answers[(label, reason)] = metrics.accepted.labels(label, reason)
        counter.inc()
        return 202, _ENCODE({"accepted": True, "event_id": admission.event_id, "outcome": reason}), ()

    def _unavailable(self, label: str) -> tuple[int, bytes, tuple]:
        self.state.metrics.rejected.labels(label, "unavailable").inc()
        retry_after = str(self.state.settings.retry_after_s).encode()
        return 503, _error("the warehouse is unavailable; retry later"), ((b"retry-after", retry_after),)


async def _body(receive: Any, declared: str | None, limit: int) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _TooLarge  # nothing to answer; the connection is gone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _admit(
    state: SinkState, provider: str, given: str | None, headers: dict[str, str], query: dict[str, str], body: bytes
) -> Admission:
    """Verify the request against its integration (or, on the bare provider URL, whichever verifies)."""
    received_at = state.now()
    if given is not None:
        if not given.isdigit():
            raise WebhookTargetError(f"{given!r} is not an integration id")
        found = await state.targets.get(int(given))
        if found.integration.provider != provider:
            raise WebhookTargetError(f"integration {given} is not a {provider} integration")
        candidates = [found]
    else:
        candidates = await state.targets.for_provider(provider)
        if not candidates:
            raise WebhookTargetError(f"no {provider} integration takes webhooks")
    failure: WebhookError | None = None
    for candidate in candidates:
        try:
            return admit(candidate, headers, query, body, received_at=received_at)
        except WebhookError as exc:
            failure = failure or exc
    if given is not None:  # a secret rotated since it was cached: reload it once and try again
        fresh = await state.targets.reload_if_stale(int(given))
        if fresh is not None:
            return admit(fresh, headers, query, body, received_at=received_at)
    assert failure is not None
    raise failure


_ENCODE = msgspec.json.encode


def _error(message: str) -> bytes:
    return _ENCODE({"accepted": False, "error": message})


async def health(request: Request) -> Response:
    """200 when the warehouse answers (the sink can accept deliveries), 503 otherwise."""
    state: SinkState = request.app.state.sink
    try:
        await asyncio.to_thread(_ping, state.settings.database_url)
    except psycopg.Error:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def _ping(url: str) -> None:
    with psycopg.connect(url, connect_timeout=3) as conn:
        conn.execute("select 1")


async def metrics(request: Request) -> Response:
    """Prometheus text format; the queue gauges are read from the inbox now (kept as they were when it cannot be)."""
    from webhook_sink.metrics import CONTENT_TYPE

    state: SinkState = request.app.state.sink
    try:
        pending, dead = await asyncio.to_thread(_queue_sizes, state.settings.database_url)
    except psycopg.Error:
        pass
    else:
        state.metrics.queue_depth.set(pending)
        state.metrics.dead_letters.set(dead)
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)


def _queue_sizes(url: str) -> tuple[int, int]:
    with psycopg.connect(url, connect_timeout=3) as conn:
        row = conn.execute(
            "select count(*) filter (where status = 'pending'), count(*) filter (where status = 'dead') "
            "from ops.webhook_deliveries where status <> 'done'"
        ).fetchone()
    return int(row[0]), int(row[1])
