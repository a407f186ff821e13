"""The one HTTP transport every provider client uses.

Timeouts, retries with exponential backoff that honour `Retry-After`, token refresh on 401,
JSON decoding with exact decimals and pagination helpers live here once, so a fix to any of
them reaches every provider. Decisions follow the clients we admire (openai-python,
stripe-python): retry 408/409/429/5xx and connection errors, back off from 0.5 s doubling with
jitter, cap a server-requested wait at two minutes.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

import httpx
import msgspec

from plugins.providers.errors import AuthenticationError, ProviderError, RateLimitedError

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 16.0
    retry_after_max: float = 120.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for retry number `attempt` (0-based)."""
        ceiling = min(self.backoff_max, self.backoff_initial * (2**attempt))
        return ceiling * (0.5 + random.random() / 2)


class TokenSource(Protocol):
    """Something that can put credentials on a request and renew them when refused."""

    def headers(self) -> Mapping[str, str]: ...

    def invalidate(self) -> None: ...


class CachedToken:
    """A bearer-style token fetched on demand and reused until shortly before it expires.

    `fetch` returns (token, expires_at). The lock keeps parallel page fetches of one client
    from stampeding the provider's (rate-limited) auth endpoint.
    """

    def __init__(
        self,
        fetch: Callable[[], tuple[str, datetime]],
        to_headers: Callable[[str], Mapping[str, str]],
        *,
        refresh_margin_s: float = 60.0,
    ) -> None:
        self._fetch = fetch
        self._to_headers = to_headers
        self._margin = refresh_margin_s
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._lock = threading.Lock()

    def headers(self) -> Mapping[str, str]:
        with self._lock:
            now = datetime.now(UTC)
            if (
                self._token is None
                or self._expires_at is None
                or (self._expires_at - now).total_seconds() < self._margin
            ):
                self._token, self._expires_at = self._fetch()
            return self._to_headers(self._token)

    def invalidate(self) -> None:
        with self._lock:
            self._token = None
            self._expires_at = None


class Transport:
    """httpx.Client plus our retry, auth-refresh and decoding rules, bound to one base URL."""

    def __init__(
        self,
        base_url: str,
        *,
        provider: str,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.provider = provider
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            timeout=timeout,
            headers={"User-Agent": "conciliador/0.1 (+https://github.com/conciliador)"},
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        auth: TokenSource | None = None,
        retry_statuses: Collection[int] = RETRYABLE_STATUSES,
        refusal_is_auth_error: bool = True,
    ) -> httpx.Response:
        """Send one logical request, retrying what is safe to retry; raise ProviderError otherwise.

        A 401 (or 403 when the token was cached) gets one fresh token before giving up, because
        tokens can be revoked or expire early on the provider's side.

        `retry_statuses` lets one call opt out of retrying a status it must read instead (e.g. a
        409 that carries the id of an existing request). `refusal_is_auth_error=False` reports a
        401/403 as a plain ProviderError: for URLs that carry their own signature (pre-signed
        downloads) a refusal means an expired link, not bad credentials.
        """
        url = path.lstrip("/")
        refreshed = False
        attempt = 0
        while True:
            headers = dict(auth.headers()) if auth is not None else {}
            try:
                response = self._client.request(method, url, params=params, json=json, data=data, headers=headers)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                if attempt >= self.retry.max_retries:
                    raise ProviderError(
                        f"{self.provider}: {method} {path} failed after {attempt + 1} attempts: {exc!r}"
                    ) from exc
                delay = self.retry.backoff(attempt)
                log.warning("%s %s %s: %r; retrying in %.2fs", self.provider, method, path, exc, delay)
                self._sleep(delay)
                attempt += 1
                continue

            status = response.status_code
            if status < 400:
                return response
            if status in (401, 403) and auth is not None and not refreshed:
                auth.invalidate()
                refreshed = True
                continue
            if status in (401, 403) and refusal_is_auth_error:
                raise AuthenticationError(
                    f"{self.provider} refused the credentials ({status}) on {method} {path}: {_snippet(response)}",
                    status=status,
                    body=response.text,
                )
            if status in retry_statuses and attempt < self.retry.max_retries:
                delay = self._delay_for(response, attempt)
                log.warning(
                    "%s %s %s answered %s; retrying in %.2fs (retry %d of %d)",
                    self.provider,
                    method,
                    path,
                    status,
                    delay,
                    attempt + 1,
                    self.retry.max_retries,
                )
                self._sleep(delay)
                attempt += 1
                continue
            error_type = RateLimitedError if status == 429 else ProviderError
            raise error_type(
                f"{self.provider}: {method} {path} answered {status}: {_snippet(response)}",
                status=status,
                body=response.text,
            )

    def get_json(self, path: str, *, params: Mapping[str, Any] | None = None, auth: TokenSource | None = None) -> Any:
        return decode_json(self.request("GET", path, params=params, auth=auth))

    def download(self, url: str) -> bytes:
        """The body of a pre-signed URL (possibly on another host), fetched without credentials.

        Same retry rules as every other call; an absolute URL replaces the base URL, and no
        provider token is sent, since the signature is in the URL itself.
        """
        return self.request("GET", url, auth=None, refusal_is_auth_error=False).content

    def _delay_for(self, response: httpx.Response, attempt: int) -> float:
        server_says = retry_after_seconds(response.headers)
        if server_says is not None:
            return min(max(server_says, 0.0), self.retry.retry_after_max)
        return self.retry.backoff(attempt)


def decode_json(response: httpx.Response) -> Any:
    """Decode a JSON body keeping every JSON number with a fraction as an exact Decimal."""
    try:
        return _DECODER.decode(response.content)
    except msgspec.DecodeError as exc:
        raise ProviderError(
            f"Expected JSON from {response.request.method} {response.request.url.path}, got {_snippet(response)}",
            status=response.status_code,
        ) from exc


def decode_as(response: httpx.Response, shape: type[T]) -> T:
    """Decode a JSON body into a msgspec Struct, e.g. one that leaves records as raw bytes."""
    try:
        return msgspec.json.decode(response.content, type=shape)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProviderError(
            f"Unexpected body from {response.request.method} {response.request.url.path}: {exc}; "
            f"got {_snippet(response)}",
            status=response.status_code,
        ) from exc


def decode_object(raw: bytes | msgspec.Raw) -> Any:
    """Decode raw JSON bytes with exact Decimals, as `decode_json` does for whole bodies."""
    return _DECODER.decode(raw)


def prefetched(items: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Run `items` (e.g. page fetches) in a background thread, `depth` pages ahead.

    Cursor pagination is sequential, but fetching page n+1 while the caller loads page n
    overlaps the provider's latency with our own work. Errors surface in the caller.
    """
    done = object()
    buffer: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                buffer.put(item)
            buffer.put(done)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            buffer.put(exc)

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                buffer.get_nowait()
            except queue.Empty:
                worker.join(0.05)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, `Retry-After` seconds or HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return (when - datetime.now(UTC)).total_seconds()


def iter_cursor_pages(
    fetch: Callable[[str | None], tuple[list[Any], str | None]],
) -> Iterator[list[Any]]:
    """Follow an opaque cursor until the provider says there is no next page."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        results, cursor = fetch(cursor)
        yield results
        if cursor is None:
            return
        if cursor in seen:
            raise ProviderError(f"Pagination loop: cursor {cursor[:40]!r} came back twice")
        seen.add(cursor)


def iter_numbered_pages(
    fetch: Callable[[int], tuple[list[Any], bool]], *, first_page: int = 1, max_pages: int = 100_000
) -> Iterator[list[Any]]:
    """Request page 1, 2, … while `fetch` reports that another page exists."""
    page = first_page
    while page < first_page + max_pages:
        results, has_more = fetch(page)
        yield results
        if not has_more or not results:
            return
        page += 1
    raise ProviderError(f"Pagination did not end after {max_pages} pages")


def _snippet(response: httpx.Response, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")
