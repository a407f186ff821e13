"""The sandbox's control surface: fault injection and a log of recent requests.

Client tests need a provider that misbehaves on cue and a way to see what the client really sent
(how many retries, how many token requests). `ControlMiddleware` wraps the whole server: it logs
every request to a platform (under `/<name>/`, or under a path the platform serves outside its
prefix, such as pre-signed download links) and, when a queued fault matches, answers it instead of
the platform, or mangles what the platform answered. The `/_sandbox/*` routes manage both. Which
platforms exist, their outside paths and their error envelopes come from the server (the sandbox
registry); nothing here names one.

A fault is queued with `POST /_sandbox/faults`:

    {"provider": "<platform name>", "path_prefix": "/v2/transactions", "method": "GET",
     "responses": [{"status": 429, "headers": {"Retry-After": "1"}}, {"status": 503}],
     "count": 1}

The next matching requests consume the responses one by one, `count` times over. `path_prefix` is
relative to the platform's base URL; a path the platform serves outside its prefix is matched as
it is (`{"provider": "<name>", "path_prefix": "/_sandbox/files"}`). Each response is one of:

- an answer instead of the provider's: `status` (+ `headers`) with a JSON `body` (default: the
  provider's error envelope), or a `raw_body` text with its `content_type` (an HTML error page
  from a proxy: `{"status": 502, "raw_body": "<html>…", "content_type": "text/html"}`);
- a mangled provider answer (no `status`: the provider answers, then):
  - `"truncate": "body"`: the body is cut in half and sent as a complete HTTP message (JSON cut
    mid-way, a gzip file without its end);
  - `"truncate": "connection"`: the headers promise the whole body (`Content-Length`), half of it
    is sent, then the connection drops (the client sees a short read);
  - `"corrupt": {"path": "amount.value", "value": "131,8,9", "nth": 0}`: in a JSON body, the
    `nth` object (depth first, in document order, the envelope included) that has the dotted
    `path` gets `value` there (`"delete": true` removes the key instead); in a CSV or gzipped CSV
    body (the reconciliation file), `path` names a column and `nth` a data line;
  - `"advance_clock_s": 600`: the provider answers as if that many seconds had passed (the
    report download then finds its pre-signed link expired and answers S3's 403);
- `delay_s` on any of them waits first (beyond a client's read timeout, it is a timeout); a
  response with only `delay_s` lets the provider answer late.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CLOCK_OFFSET_KEY = "sandbox_clock_offset_s"
TRUNCATIONS = ("body", "connection")


def clock_offset(scope: Scope) -> float:
    """Seconds a fault asked this request to be served in the future (`advance_clock_s`), else 0."""
    return float((scope.get("state") or {}).get(CLOCK_OFFSET_KEY, 0.0))


@dataclass(frozen=True, slots=True)
class Corruption:
    """Where to put a bad value in the provider's answer: a dotted JSON path or a CSV column."""

    path: str
    value: Any = None
    delete: bool = False
    nth: int = 0


@dataclass(frozen=True, slots=True)
class FaultResponse:
    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = None
    delay_s: float = 0.0
    raw_body: str | None = None
    content_type: str | None = None
    truncate: str | None = None
    corrupt: Corruption | None = None
    advance_clock_s: float = 0.0

    @property
    def mangles(self) -> bool:
        """Whether the provider's own answer is altered (rather than replaced or merely delayed)."""
        return self.truncate is not None or self.corrupt is not None

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"status": self.status, "headers": dict(self.headers), "delay_s": self.delay_s}
        if self.body is not None:
            described["body"] = self.body
        if self.raw_body is not None:
            described["raw_body"] = self.raw_body
            described["content_type"] = self.content_type
        if self.truncate is not None:
            described["truncate"] = self.truncate
        if self.corrupt is not None:
            described["corrupt"] = {
                "path": self.corrupt.path,
                "value": self.corrupt.value,
                "delete": self.corrupt.delete,
                "nth": self.corrupt.nth,
            }
        if self.advance_clock_s:
            described["advance_clock_s"] = self.advance_clock_s
        return described


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
            "pending": [r.describe() for r in self.pending],
        }


_RESPONSE_KEYS = (
    "status",
    "headers",
    "body",
    "delay_s",
    "raw_body",
    "content_type",
    "truncate",
    "corrupt",
    "advance_clock_s",
)


def parse_fault(spec: Any, fault_id: int, providers: Sequence[str]) -> Fault:
    """Validate a fault request body against the served platforms; ValueError with a message fit for a 400."""
    if not isinstance(spec, Mapping):
        raise ValueError("the body must be a JSON object")
    provider = spec.get("provider")
    if provider not in providers:
        raise ValueError(f"provider must be one of {', '.join(providers)}")
    path_prefix = spec.get("path_prefix", "/")
    if not isinstance(path_prefix, str) or not path_prefix.startswith("/"):
        raise ValueError("path_prefix must be a path starting with '/' (relative to the provider's base URL)")
    method = spec.get("method")
    if method is not None and (not isinstance(method, str) or not method.isalpha()):
        raise ValueError("method must be an HTTP method name")
    raw = spec.get("responses")
    if raw is None and any(k in spec for k in _RESPONSE_KEYS):
        raw = [{k: spec[k] for k in _RESPONSE_KEYS if k in spec}]
    if not isinstance(raw, list) or not raw:
        raise ValueError("responses must be a non-empty list of responses (see sandbox.control)")
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
    unknown = sorted(set(raw) - set(_RESPONSE_KEYS))
    if unknown:
        raise ValueError(f"unknown response field(s) {', '.join(unknown)}; known: {', '.join(_RESPONSE_KEYS)}")
    status = raw.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
        raise ValueError("status must be an HTTP status code (100-599)")
    headers = raw.get("headers") or {}
    if not isinstance(headers, Mapping) or not all(isinstance(v, str | int | float) for v in headers.values()):
        raise ValueError("headers must be an object of header name to value")
    delay = _seconds(raw, "delay_s")
    advance = _seconds(raw, "advance_clock_s", maximum=10 * 365 * 86_400)
    raw_body, content_type = raw.get("raw_body"), raw.get("content_type")
    if raw_body is not None and (not isinstance(raw_body, str) or status is None or "body" in raw):
        raise ValueError("raw_body must be text, given with a status and without a JSON body")
    if content_type is not None and (not isinstance(content_type, str) or raw_body is None):
        raise ValueError("content_type must be text, given with a raw_body")
    truncate = raw.get("truncate")
    if truncate is not None and truncate not in TRUNCATIONS:
        raise ValueError(f"truncate must be one of {', '.join(TRUNCATIONS)}")
    corrupt = _parse_corruption(raw.get("corrupt")) if raw.get("corrupt") is not None else None
    if status is not None and (truncate or corrupt or advance):
        raise ValueError(
            "truncate, corrupt and advance_clock_s alter the provider's answer: give them without a status"
        )
    if truncate and corrupt:
        raise ValueError("give truncate or corrupt, not both, in one response")
    if status is None and not (delay or truncate or corrupt or advance):
        raise ValueError("a response needs a status, a delay_s, truncate, corrupt or advance_clock_s")
    return FaultResponse(
        status,
        tuple((str(k), str(v)) for k, v in headers.items()),
        raw.get("body"),
        delay,
        raw_body,
        content_type,
        truncate,
        corrupt,
        advance,
    )


def _seconds(raw: Mapping[str, Any], name: str, maximum: float = 300) -> float:
    value = raw.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= maximum:
        raise ValueError(f"{name} must be a number of seconds from 0 to {maximum:g}")
    return float(value)


def _parse_corruption(raw: Any) -> Corruption:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("path"), str) or not raw["path"]:
        raise ValueError("corrupt must be an object with a non-empty path (a dotted JSON path or a CSV column)")
    delete = raw.get("delete", False)
    nth = raw.get("nth", 0)
    if not isinstance(delete, bool) or isinstance(nth, bool) or not isinstance(nth, int) or nth < 0:
        raise ValueError("corrupt.delete must be true or false and corrupt.nth a whole number from 0")
    if "value" not in raw and not delete:
        raise ValueError("corrupt needs a value, or delete: true")
    return Corruption(raw["path"], raw.get("value"), delete, nth)


class FaultBook:
    """Queued faults for the served platforms, consumed first-queued first by matching requests (thread-safe)."""

    def __init__(self, providers: Sequence[str]) -> None:
        self.providers = tuple(providers)
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, spec: Any) -> Fault:
        with self._lock:
            fault = parse_fault(spec, self._next_id, self.providers)
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


class CorruptionError(ValueError):
    """The corruption's path or column is not in the provider's answer (a mistake in the fault)."""


def corrupt_body(body: bytes, content_type: str, corruption: Corruption) -> bytes:
    """The provider's body with one value replaced (or removed), as `Corruption` says."""
    if body[:2] == b"\x1f\x8b":
        return gzip.compress(_corrupt_csv(gzip.decompress(body), corruption), mtime=0)
    if "csv" in content_type:
        return _corrupt_csv(body, corruption)
    document = json.loads(body)
    keys = corruption.path.split(".")
    found = 0
    for node in _objects(document):
        parent = node
        for key in keys[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and keys[-1] in parent:
            if found == corruption.nth:
                if corruption.delete:
                    del parent[keys[-1]]
                else:
                    parent[keys[-1]] = corruption.value
                return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
            found += 1
    raise CorruptionError(
        f"corrupt: the answer has {found} object(s) with path {corruption.path!r}, not {corruption.nth + 1}"
    )


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a document, depth first, in document order (the root first)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def _corrupt_csv(content: bytes, corruption: Corruption) -> bytes:
    text = content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    if not rows or corruption.path not in rows[0]:
        raise CorruptionError(f"corrupt: the file has no column {corruption.path!r}")
    if corruption.nth + 1 >= len(rows):
        raise CorruptionError(f"corrupt: the file has {len(rows) - 1} data lines, not {corruption.nth + 1}")
    value = "" if corruption.delete else str(corruption.value)
    rows[corruption.nth + 1][rows[0].index(corruption.path)] = value
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


ErrorBody = Callable[[int, str], Any]  # (status, message) → a platform's error envelope


class ControlMiddleware:
    """Logs every request to a platform and answers (or mangles) injected faults.

    `error_bodies` names the platforms (their URL prefixes) with the error envelope each answers an
    injected status in; `outside` maps path prefixes a platform serves outside its own prefix to it.
    """

    def __init__(
        self,
        app: ASGIApp,
        faults: FaultBook,
        log: RequestLog,
        *,
        error_bodies: Mapping[str, ErrorBody],
        outside: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.faults = faults
        self.log = log
        self.error_bodies = dict(error_bodies)
        self.outside = dict(outside or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        first, _, rest = path.lstrip("/").partition("/")
        outside = next((name for prefix, name in self.outside.items() if path.startswith(prefix)), None)
        if outside is not None:
            provider, relative = outside, path
        elif first in self.error_bodies:
            provider, relative = first, "/" + rest
        else:  # the control surface itself is neither logged nor faulted
            await self.app(scope, receive, send)
            return
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": scope.get("query_string", b"").decode("latin-1"),
            "status": None,
            "provider": provider,
            "fault": False,
            "at": time.time(),
        }
        fault = self.faults.take(provider, method, relative)
        try:
            if fault is not None:
                entry["fault"] = True
                if fault.delay_s:
                    await asyncio.sleep(fault.delay_s)
                if fault.advance_clock_s:
                    scope = {**scope, "state": {**(scope.get("state") or {}), CLOCK_OFFSET_KEY: fault.advance_clock_s}}
                if fault.status is not None:
                    entry["status"] = fault.status
                    await self._answer(fault, self.error_bodies[provider], send)
                    return
                if fault.mangles:
                    entry["status"] = await self._mangled(fault, scope, receive, send)
                    return

            async def send_and_record(message: Message) -> None:
                if message["type"] == "http.response.start":
                    entry["status"] = message["status"]
                await send(message)

            await self.app(scope, receive, send_and_record)
        finally:
            self.log.add(entry)

    async def _mangled(self, fault: FaultResponse, scope: Scope, receive: Receive, send: Send) -> int:
        """Let the provider answer into a buffer, then send its answer truncated or corrupted."""
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        content_type = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), "")
        status = int(start.get("status", 500))
        if fault.corrupt is not None:
            try:
                body = corrupt_body(body, content_type, fault.corrupt)
            except (CorruptionError, ValueError, OSError) as exc:
                status, body = 500, json.dumps({"sandbox_error": str(exc)}).encode()
                headers = [(b"content-type", b"application/json")]
        elif fault.truncate == "connection":
            # Promise the whole body, send half, and end without completing the response: the
            # server then drops the connection and the client sees a short read.
            await send({"type": "http.response.start", "status": status, "headers": [*headers, _length(body)]})
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            return status
        else:
            body = body[: len(body) // 2]
        await send({"type": "http.response.start", "status": status, "headers": [*headers, _length(body)]})
        await send({"type": "http.response.body", "body": body})
        return status

    @staticmethod
    async def _answer(fault: FaultResponse, error_body: ErrorBody, send: Send) -> None:
        status = fault.status or 500
        if fault.raw_body is not None:
            content = fault.raw_body.encode()
            content_type = fault.content_type or "text/plain; charset=utf-8"
        else:
            body = fault.body if fault.body is not None else error_body(status, "Fault injected by the sandbox")
            content = json.dumps(body).encode()
            content_type = "application/json"
        extra = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in fault.headers
            if k.lower() != "content-length"
        ]
        headers = [_length(content), *extra]
        if not any(k == b"content-type" for k, _ in extra):
            headers.append((b"content-type", content_type.encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


def _length(body: bytes) -> tuple[bytes, bytes]:
    return (b"content-length", str(len(body)).encode())
