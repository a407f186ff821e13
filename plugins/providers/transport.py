"""The one HTTP transport every provider client uses.

Timeouts, retries with exponential backoff that honour `Retry-After`, token refresh on 401,
strict JSON decoding into typed shapes and pagination helpers live here once, so a fix to any of
them reaches every provider. Decisions follow the official SDKs we admire (openai-python and a
card gateway's Python client): retry 408/409/429/5xx and connection errors, back off from 0.5 s
doubling with jitter, cap a server-requested wait at two minutes.

Completeness (design.md): a body that is not the documented shape is a `ResponseShapeError`,
never an empty page, and pagination ends only on the provider's own end signal, with what was
fetched checked against the totals the provider states (`IncompleteExtractionError`).
"""

from __future__ import annotations

import logging
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

import httpx
import msgspec

from plugins.providers.errors import (
    AuthenticationError,
    IncompleteExtractionError,
    ProviderError,
    RateLimitedError,
    RequestRejectedError,
    ResponseShapeError,
)

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


@dataclass(frozen=True)
class TransportOptions:
    """How a provider's HTTP calls behave: timeout, retries, and how to wait and tell time.

    Production syncs take the defaults. Tests and benchmarks pass their own through the provider
    (`Provider(transport=…)`, `run_sync(transport=…)`): a recording `sleep` so retries and polls
    cost no wall-clock time, a short `timeout` so a timeout test takes a second, not a minute.
    `clock` is what deadlines (e.g. the on-demand report's poll timeout) are measured with.
    """

    timeout: httpx.Timeout | float | None = None  # None: DEFAULT_TIMEOUT (30 s, 5 s to connect)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def with_overrides(self, **overrides: Any) -> TransportOptions:
        """These options with some fields replaced; None values leave a field as it is."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


# A client's reading of an error answer: the specific ProviderError it means (e.g. NotLinkedError
# for a 404 on a merchant path), or None to let the transport apply its generic rules.
ErrorClassifier = Callable[[httpx.Response], "ProviderError | None"]


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
    """httpx.Client plus our retry, auth-refresh and decoding rules, bound to one base URL.

    `classify` is the client's reading of error answers (see `ErrorClassifier`): it runs before
    the generic rules, so a provider can say that a 403 naming the merchant is `NotLinkedError`
    rather than bad credentials, or that an HTML 404 is not its own answer.
    """

    def __init__(
        self,
        base_url: str,
        *,
        provider: str,
        options: TransportOptions | None = None,
        classify: ErrorClassifier | None = None,
    ) -> None:
        self.provider = provider
        self.options = options or TransportOptions()
        self.retry = self.options.retry
        self._sleep = self.options.sleep
        self._classify = classify
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            timeout=DEFAULT_TIMEOUT if self.options.timeout is None else self.options.timeout,
            headers={"User-Agent": "conciliador/0.1 (+https://github.com/conciliador)"},
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
        )

    def close(self) -> None:
        self._client.close()

    def sleep(self, seconds: float) -> None:
        """Wait as the options say (a test's recording sleep, or time.sleep)."""
        self._sleep(seconds)

    def now(self) -> float:
        """Monotonic seconds from the options' clock, for deadlines."""
        return self.options.clock()

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
        accept_statuses: Collection[int] = (),
    ) -> httpx.Response:
        """Send one logical request, retrying what is safe to retry; raise ProviderError otherwise.

        A 401 (or 403 when the token was cached) gets one fresh token before giving up, because
        tokens can be revoked or expire early on the provider's side.

        `retry_statuses` lets one call opt out of retrying a status it must read instead (e.g. a
        409 that carries the id of an existing request). `accept_statuses` are error statuses the
        caller reads itself (a 404 that may be the documented "nothing here" answer): they are
        returned, not raised. `refusal_is_auth_error=False` reports a 401/403 as a plain
        ProviderError: for URLs that carry their own signature (pre-signed downloads) a refusal
        means an expired link, not bad credentials.
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
                    what = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
                    raise ProviderError(
                        f"{self.provider}: {method} {_path_of(path)} {what} on all {attempt + 1} attempts "
                        f"(last: {type(exc).__name__}: {exc})"
                    ) from exc
                delay = self.retry.backoff(attempt)
                log.warning("%s %s %s: %r; retrying in %.2fs", self.provider, method, path, exc, delay)
                self._sleep(delay)
                attempt += 1
                continue

            status = response.status_code
            if status < 400 or status in accept_statuses:
                return response
            if self._classify is not None:
                specific = self._classify(response)
                if specific is not None:
                    raise specific
            if status in (401, 403) and auth is not None and not refreshed:
                auth.invalidate()
                refreshed = True
                continue
            if status in (401, 403) and refusal_is_auth_error:
                raise AuthenticationError(
                    f"{self.provider} refused the credentials ({status}) on {method} {_path_of(path)}: "
                    f"{_snippet(response)}",
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
            error_type: type[ProviderError] = ProviderError
            if status == 429:
                error_type = RateLimitedError
            elif 400 <= status < 500 and status not in (401, 403, 404) and status not in retry_statuses:
                error_type = RequestRejectedError
            tries = f" after {attempt + 1} attempts" if status in retry_statuses else ""
            raise error_type(
                f"{self.provider}: {method} {_path_of(path)} answered {status}{tries}: {_snippet(response)}",
                status=status,
                body=response.text,
            )

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


# --------------------------------------------------------------------------------- decoding


def decode_as(response: httpx.Response, decoder: msgspec.json.Decoder[T], *, provider: str) -> T:
    """Decode a JSON body strictly into a typed shape (msgspec Structs), or raise ResponseShapeError.

    The shape lists the fields we rely on, with their types; unknown fields are ignored (providers
    add fields), missing or mistyped ones, HTML, truncated JSON and a list where an object belongs
    are errors that say what and where.
    """
    try:
        return decoder.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise shape_error(response, exc, provider=provider) from exc


def decode_json(response: httpx.Response, *, provider: str) -> Any:
    """Decode any JSON body keeping every JSON number with a fraction as an exact Decimal."""
    try:
        return _DECODER.decode(response.content)
    except msgspec.DecodeError as exc:
        raise shape_error(response, exc, provider=provider) from exc


def decode_object(raw: bytes | msgspec.Raw) -> Any:
    """Decode raw JSON bytes with exact Decimals, as `decode_json` does for whole bodies."""
    return _DECODER.decode(raw)


def shape_error(
    response: httpx.Response, problem: Exception | str, *, provider: str, content: bytes | None = None
) -> ResponseShapeError:
    """One sentence: which provider and endpoint answered what, and what is wrong with it."""
    content = response.content if content is None else content
    return ResponseShapeError(
        f"{provider}: {_where(response)} answered {response.status_code} with {describe_problem(response, problem, content)}",
        status=response.status_code,
        body=response.text[:2000],
    )


def describe_problem(response: httpx.Response, problem: Exception | str, content: bytes) -> str:
    """What is wrong with a body, in words: empty, not JSON, truncated, or which field is off."""
    content_type = response.headers.get("content-type", "no content type").split(";")[0].strip()
    if isinstance(problem, str):
        return f"{problem} ({content_type}: {_snippet(response, 120)})"
    if not content.strip():
        return "an empty body where JSON was documented"
    if isinstance(problem, msgspec.DecodeError) and not isinstance(problem, msgspec.ValidationError):
        if "json" not in content_type.lower():
            return f"a {content_type} body instead of JSON ({_snippet(response, 120)})"
        if "truncated" in str(problem).lower():
            return f"truncated JSON ({len(content)} bytes, ending {content[-40:].decode('utf-8', 'replace')!r})"
        return f"malformed JSON ({problem})"
    return f"a body that is not the documented shape: {problem}{_record_hint(content, str(problem))}"


_ERROR_PATH = re.compile(r" - at `\$([^`]*)`$")
_PATH_PART = re.compile(r"\.([A-Za-z_]\w*)|\[(\d+)\]")


def _record_hint(content: bytes, message: str) -> str:
    """Name the record a validation error points into (its index and id) and the value found there."""
    match = _ERROR_PATH.search(message)
    if not match:
        return ""
    try:
        node: Any = _DECODER.decode(content)
    except msgspec.DecodeError:
        return ""
    walked, label = "", ""
    for key, index in _PATH_PART.findall(match.group(1)):
        if key:
            node = node.get(key, _MISSING) if isinstance(node, dict) else _MISSING
            walked += f".{key}"
        else:
            position = int(index)
            node = node[position] if isinstance(node, list) and position < len(node) else _MISSING
            walked += f"[{position}]"
            if isinstance(node, dict):
                ident = node.get("id")
                if ident is None and isinstance(node.get("reference"), dict):
                    ident = node["reference"].get("id")
                label = walked.lstrip(".") + (f", id {ident!r}" if ident is not None else "")
        if node is _MISSING:
            break
    found = "" if node is _MISSING or isinstance(node, dict | list) else f"; found {_plain(node)!r}"
    return f" (record {label}{found})" if label else (f" ({found.lstrip('; ')})" if found else "")


_MISSING = object()


def _plain(value: Any) -> Any:
    return format(value, "f") if isinstance(value, Decimal) else value


def _where(response: httpx.Response) -> str:
    request = response.request
    query = request.url.query.decode("ascii", "replace")
    if len(query) > 160:
        query = query[:160] + "…"
    return f"{request.method} {request.url.path}" + (f"?{query}" if query else "")


def _path_of(path: str) -> str:
    """A path or absolute URL without its query (pre-signed links carry signatures there)."""
    return path.split("?", 1)[0]


# ------------------------------------------------------------------------------- pagination


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
    """Seconds the server asked us to wait: `retry-after-ms`, `Retry-After` seconds or HTTP date.

    Without `Retry-After`, a `RateLimit-Reset` header (the IETF draft's delta-seconds until the
    limit resets, which some APIs send on a 429 instead) is the wait asked for.
    """
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        reset = (headers.get("ratelimit-reset") or "").strip()
        return float(reset) if reset.isascii() and reset.isdigit() else None
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
    fetch: Callable[[str | None], tuple[list[Any], str | None]], *, provider: str, what: str
) -> Iterator[list[Any]]:
    """Follow an opaque cursor until the provider says there is no next page (`next` null)."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        results, cursor = fetch(cursor)
        yield results
        if cursor is None:
            return
        if cursor in seen:
            raise IncompleteExtractionError(f"{provider}: {what}: the cursor {cursor[:40]!r} came back twice")
        seen.add(cursor)


@dataclass(frozen=True)
class NumberedPage:
    """One numbered page as the provider described it.

    `page` is the number the body says it is; `has_next` the provider's own end signal (page <
    pageCount, hasNextPage); `total` / `page_count` what it states exists, when it states it.
    """

    records: list[Any]
    page: int
    has_next: bool
    total: int | None = None
    page_count: int | None = None


def iter_numbered_pages(
    fetch: Callable[[int], NumberedPage],
    *,
    provider: str,
    what: str,
    first_page: int = 1,
    max_pages: int = 100_000,
) -> Iterator[list[Any]]:
    """Request page 1, 2, … until a page says it is the last; then check the stated totals.

    Ends only on the provider's end signal: an empty page is not an end (an empty page that says
    more follow is a contradiction, and an error). The page number each body reports must be the
    one asked for, the stated total and page count must not change between pages, and the
    records fetched must add up to the stated total; any of these failing means records were
    missed or doubled, so the extraction fails whole (IncompleteExtractionError).
    """
    number = first_page
    fetched = 0
    stated: tuple[int | None, int | None] | None = None
    while True:
        page = fetch(number)
        if page.page != number:
            raise IncompleteExtractionError(f"{provider}: {what}: asked for page {number}, got page {page.page}")
        if stated is None:
            stated = (page.total, page.page_count)
        elif (page.total, page.page_count) != stated:
            raise IncompleteExtractionError(
                f"{provider}: {what}: page {number} states total {page.total} in {page.page_count} pages, "
                f"page {first_page} stated {stated[0]} in {stated[1]}: the data moved while we paged"
            )
        fetched += len(page.records)
        yield page.records
        if not page.has_next:
            break
        if not page.records:
            raise IncompleteExtractionError(f"{provider}: {what}: page {number} is empty but says more pages follow")
        number += 1
        if number >= first_page + max_pages:
            raise IncompleteExtractionError(f"{provider}: {what}: pagination did not end after {max_pages} pages")
    total = stated[0] if stated else None
    if total is not None and fetched != total:
        raise IncompleteExtractionError(
            f"{provider}: {what}: fetched {fetched} records in {number - first_page + 1} pages, "
            f"but the provider stated a total of {total}"
        )


def _snippet(response: httpx.Response, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")
