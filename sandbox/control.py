"""The sandbox's control surface: fault injection and a log of recent requests.

Client tests need a provider that misbehaves on cue (429 with `Retry-After`, 5xx, a revoked key,
a slow answer) and a way to see what the client really sent (how many retries, how many token
requests). `ControlMiddleware` wraps the whole server: it logs every request and, when a queued
fault matches, answers it instead of the provider. The `/_sandbox/*` routes manage both.

A fault is queued with `POST /_sandbox/faults`:

    {"provider": "pluggy", "path_prefix": "/v2/transactions", "method": "GET",
     "responses": [{"status": 429, "headers": {"Retry-After": "1"}}, {"status": 503}],
     "count": 1}

The next matching requests consume the responses one by one, `count` times over. A response may
carry `body` (any JSON) and `delay_s`; one with `delay_s` and no `status` waits, then lets the
provider answer (to exercise client timeouts).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROVIDERS = ("pluggy", "ifood")


@dataclass(frozen=True, slots=True)
class FaultResponse:
    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = None
    delay_s: float = 0.0


@dataclass(slots=True)
class Fault:
    id: int
    provider: str
    path_prefix: str
    method: str | None
    pending: deque[FaultResponse] = field(default_factory=deque)

    def matches(self, provider: str, method: str, path: str) -> bool:
        return (
            self.provider == provider
            and path.startswith(self.path_prefix)
            and (self.method is None or self.method == method)
        )

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "path_prefix": self.path_prefix,
            "method": self.method,
            "pending": [
                {"status": r.status, "headers": dict(r.headers), "body": r.body, "delay_s": r.delay_s}
                for r in self.pending
            ],
        }


def parse_fault(spec: Any, fault_id: int) -> Fault:
    """Validate a fault request body; ValueError with a message fit for a 400."""
    if not isinstance(spec, Mapping):
        raise ValueError("the body must be a JSON object")
    provider = spec.get("provider")
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}")
    path_prefix = spec.get("path_prefix", "/")
    if not isinstance(path_prefix, str) or not path_prefix.startswith("/"):
        raise ValueError("path_prefix must be a path starting with '/' (relative to the provider's base URL)")
    method = spec.get("method")
    if method is not None and (not isinstance(method, str) or not method.isalpha()):
        raise ValueError("method must be an HTTP method name")
    raw = spec.get("responses")
    if raw is None and "status" in spec:
        raw = [{k: spec[k] for k in ("status", "headers", "body", "delay_s") if k in spec}]
    if not isinstance(raw, list) or not raw:
        raise ValueError("responses must be a non-empty list of {status, headers?, body?, delay_s?}")
    count = spec.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100_000:
        raise ValueError("count must be a whole number from 1 to 100000")
    responses = [_parse_response(r) for r in raw]
    fault = Fault(fault_id, provider, path_prefix, method.upper() if method else None)
    fault.pending.extend(responses * count)
    return fault


def _parse_response(raw: Any) -> FaultResponse:
    if not isinstance(raw, Mapping):
        raise ValueError("each response must be an object")
    status = raw.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
        raise ValueError("status must be an HTTP status code (100-599)")
    headers = raw.get("headers") or {}
    if not isinstance(headers, Mapping) or not all(isinstance(v, str | int | float) for v in headers.values()):
        raise ValueError("headers must be an object of header name to value")
    delay = raw.get("delay_s", 0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 300:
        raise ValueError("delay_s must be a number of seconds from 0 to 300")
    if status is None and not delay:
        raise ValueError("a response needs a status, a delay_s, or both")
    return FaultResponse(status, tuple((str(k), str(v)) for k, v in headers.items()), raw.get("body"), float(delay))


class FaultBook:
    """Queued faults, consumed first-queued first by matching requests (thread-safe)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, spec: Any) -> Fault:
        with self._lock:
            fault = parse_fault(spec, self._next_id)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def take(self, provider: str, method: str, path: str) -> FaultResponse | None:
        with self._lock:
            for fault in self._faults:
                if fault.pending and fault.matches(provider, method, path):
                    response = fault.pending.popleft()
                    if not fault.pending:
                        self._faults.remove(fault)
                    return response
        return None

    def clear(self) -> int:
        with self._lock:
            n = sum(len(f.pending) for f in self._faults)
            self._faults.clear()
            return n

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]


class RequestLog:
    """The most recent requests (method, path, query, status, provider, fault), oldest first."""

    def __init__(self, size: int = 10_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(
        self, *, provider: str | None = None, path_prefix: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            rows = [
                e
                for e in self._entries
                if (provider is None or e["provider"] == provider)
                and (path_prefix is None or e["path"].startswith(path_prefix))
            ]
        return rows[-limit:] if limit else rows

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _default_fault_body(provider: str, status: int) -> Any:
    if provider == "ifood":
        return {"error": {"code": f"Http{status}", "message": "Fault injected by the sandbox"}}
    return {"code": status, "message": "Fault injected by the sandbox"}


class ControlMiddleware:
    """Logs every request to a provider and answers injected faults before the provider sees it."""

    def __init__(self, app: ASGIApp, faults: FaultBook, log: RequestLog) -> None:
        self.app = app
        self.faults = faults
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        first, _, rest = path.lstrip("/").partition("/")
        if first not in PROVIDERS:  # the control surface itself is neither logged nor faulted
            await self.app(scope, receive, send)
            return
        provider = first
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": scope.get("query_string", b"").decode("latin-1"),
            "status": None,
            "provider": provider,
            "fault": False,
            "at": time.time(),
        }
        fault = self.faults.take(provider, method, "/" + rest)
        try:
            if fault is not None and fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault is not None and fault.status is not None:
                entry["fault"] = True
                entry["status"] = fault.status
                await self._answer(fault, provider, send)
                return

            async def send_and_record(message: Message) -> None:
                if message["type"] == "http.response.start":
                    entry["status"] = message["status"]
                await send(message)

            await self.app(scope, receive, send_and_record)
        finally:
            self.log.add(entry)

    @staticmethod
    async def _answer(fault: FaultResponse, provider: str, send: Send) -> None:
        status = fault.status or 500
        body = fault.body if fault.body is not None else _default_fault_body(provider, status)
        content = json.dumps(body).encode()
        extra = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in fault.headers
            if k.lower() != "content-length"
        ]
        headers = [(b"content-length", str(len(content)).encode()), *extra]
        if not any(k == b"content-type" for k, _ in extra):
            headers.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
