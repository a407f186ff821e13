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

import psycopg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ingestion.webhook_landing import Admission, WebhookTargetError, admit
from plugins.providers.errors import MissingHeaderError, StaleTimestampError, WebhookError
from plugins.providers.registry import PROVIDERS
from webhook_sink.group_commit import DatabaseUnavailable
from webhook_sink.state import SinkState


class _TooLarge(Exception):
    pass


def _reason(exc: WebhookError) -> str:
    if isinstance(exc, MissingHeaderError):
        return "missing_header"
    if isinstance(exc, StaleTimestampError):
        return "stale_timestamp"
    return "bad_signature"


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def receive(request: Request) -> Response:
    """POST /integrations/webhooks/{provider}[/{integration}]."""
    state: SinkState = request.app.state.sink
    started = time.perf_counter()
    provider = request.path_params["provider"]
    cls = PROVIDERS.get(provider)
    label = provider if cls is not None else "unknown"
    try:
        response = await _receive(request, state, provider, label, cls is not None and cls.webhook is not None)
    finally:
        state.metrics.latency.labels(label).observe(time.perf_counter() - started)
    return response


async def _receive(request: Request, state: SinkState, provider: str, label: str, known: bool) -> Response:
    metrics = state.metrics
    if not known:
        metrics.rejected.labels(label, "unknown_provider").inc()
        return _problem(404, f"no provider {provider!r} takes webhooks here")
    try:
        body = await _body(request, state.settings.max_body_bytes)
    except _TooLarge:
        metrics.rejected.labels(label, "too_large").inc()
        return _problem(413, f"the body is over {state.settings.max_body_bytes} bytes")
    try:
        admission = await _admit(request, state, provider, body)
    except WebhookTargetError:
        metrics.rejected.labels(label, "unknown_integration").inc()
        return _problem(404, "no integration at this address takes webhooks")
    except WebhookError as exc:
        metrics.rejected.labels(label, _reason(exc)).inc()
        return _problem(401, "the request does not authenticate")
    except DatabaseUnavailable:
        return _unavailable(state, label)
    try:
        new = await state.committer.store(admission)
    except DatabaseUnavailable:
        return _unavailable(state, label)
    reason = "dead_letter" if admission.parse_error else ("new" if new else "redelivery")
    metrics.accepted.labels(label, reason).inc()
    return JSONResponse({"accepted": True, "event_id": admission.event_id, "outcome": reason}, status_code=202)


async def _admit(request: Request, state: SinkState, provider: str, body: bytes) -> Admission:
    """Verify the request against its integration (or, on the bare provider URL, whichever verifies)."""
    headers = dict(request.headers)
    query = dict(request.query_params)
    received_at = state.now()
    given = request.path_params.get("integration")
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


def _unavailable(state: SinkState, label: str) -> Response:
    state.metrics.rejected.labels(label, "unavailable").inc()
    retry_after = str(state.settings.retry_after_s)
    return _problem(503, "the warehouse is unavailable; retry later", headers={"Retry-After": retry_after})


def _problem(status: int, message: str, *, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"accepted": False, "error": message}, status_code=status, headers=headers)


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
