"""The HTTP client of Kiwify's public API: a producer account's sales and payouts.

Auth: `POST /v1/oauth/token` with the form fields `client_id` and `client_secret` gives a bearer
token and its lifetime (`expires_in`, seconds; 86400 in Kiwify's example). The token is cached
until a minute before it expires (`CachedToken`): Kiwify's docs ask not to regenerate it per
call. Every other call carries `Authorization: Bearer <token>` and `x-kiwify-account-id: <account
id>`: one API key may serve several accounts, and the header says which one is read.

Sales: `GET /v1/sales` lists the sales created between `start_date` and `end_date` (`YYYY-MM-DD`,
both required, at most 90 days apart), `view_full_sale_details=true` so each item is the full sale
(payment breakdown, partners, affiliate), in numbered pages (`page_number` from 1, `page_size` at
most 100) of `{pagination{count, page_number, page_size}, data[]}`. Kiwify states the total
(`count`) and no "next" flag, so the end signal is `page_number * page_size >= count`, and the
pages must add up to `count` (IncompleteExtractionError otherwise: a short page before the end, a
sale listed twice, a count that moves while we page). An interval is asked for with its São Paulo
dates widened by one day on each side, because Kiwify does not say in which zone it reads the
dates, and the answer is then cut exactly to the interval by each sale's `created_at` (an instant
with an offset): so what lands is exactly the sales created in the interval, whichever zone Kiwify
means. A sale whose `created_at` is not within a day of the dates asked for means the filter is not
the creation date we rely on: ResponseShapeError, never a silent drop. Longer intervals are cut
into windows of at most 90 dates.

Re-reads: `GET /v1/sales/{id}` gives one sale (the same shape), for the sales a sync re-confirms by
id (see `provider.py`).

Payouts: `GET /v1/payouts` (`page_size`, `page_number`, the same envelope) has no date filter and
no documented order, so every page is read each sync (a producer has about one payout per business
day) and only the payouts created in the interval are kept.

Error answers, before the transport's generic rules:
- the token endpoint refusing the form (400, 401, 403): AuthenticationError at once (the client id
  or secret is wrong); its body is quoted with the secret blanked out, should it echo it;
- 401 or 403 with a JSON body on any other call, still after a fresh token: the credentials are
  good (Kiwify has just issued the token) but this account is not reachable with them:
  NotLinkedError naming the account. Which of the two Kiwify answers to an `x-kiwify-account-id`
  the key does not serve is undocumented (the sandbox answers 401, as for a missing header; a
  403 is as plausible), so both are read the same way; a refusal at the token endpoint stays
  AuthenticationError;
- 404 with a JSON body: on a sale, NotLinkedError naming it (another account's sale, or gone); on
  the lists, NotLinkedError naming the account. A 404 whose body is not JSON (a proxy's page) is not
  Kiwify's answer: ResponseShapeError;
- 429: retried honouring `Retry-After`, then RateLimitedError; other 4xx: RequestRejectedError;
  5xx and timeouts: retried (the transport).
Messages never carry the client secret or a token (both travel in the body or headers, never the URL).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from plugins.providers.base import BUSINESS_TZ, Interval
from plugins.providers.errors import (
    AuthenticationError,
    IncompleteExtractionError,
    NotLinkedError,
    ProviderError,
)
from plugins.providers.kiwify import shapes
from plugins.providers.transport import (
    CachedToken,
    NumberedPage,
    Transport,
    TransportOptions,
    decode_as,
    iter_numbered_pages,
    shape_error,
)

PROVIDER = "kiwify"
TOKEN_PATH = "/v1/oauth/token"
SALES_PATH = "/v1/sales"
PAYOUTS_PATH = "/v1/payouts"
ACCOUNT_HEADER = "x-kiwify-account-id"
# The most a page may hold (third-party clients, including an MCP server listing Kiwify's own
# tools: "max 100"); Kiwify's answer states the size it used, and paging follows that.
PAGE_SIZE = 100
# `start_date` and `end_date` "at most 90 days apart": a window of 90 dates (end - start = 89 days)
# is within the limit whichever way the 90 days are counted.
WINDOW_DATES = 90
# How far the dates asked for are widened on each side, and how far a listed sale may be from them.
EDGE = timedelta(days=1)

# One sale or payout as it lands: (its id, its status, its exact JSON bytes).
Landing = tuple[str, str, msgspec.Raw]
T = TypeVar("T")

_TOKEN = msgspec.json.Decoder(shapes.Token)
_SALE = msgspec.json.Decoder(shapes.Sale)
_SALES_PAGE = msgspec.json.Decoder(shapes.SalesPage)
_SALES_PAGE_RAW = msgspec.json.Decoder(shapes.SalesPageRaw)
_PAYOUTS_PAGE = msgspec.json.Decoder(shapes.PayoutsPage)
_PAYOUTS_PAGE_RAW = msgspec.json.Decoder(shapes.PayoutsPageRaw)
_ERROR = msgspec.json.Decoder(dict[str, Any])
_SALE_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$")
_SALE_PATH = re.compile(r"^/v1/sales/([^/]+)$")


class KiwifyClient:
    """Typed access to the Kiwify endpoints we read: every answer is checked against its shape."""

    DEFAULT_BASE_URL = "https://public-api.kiwify.com"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        account_id: str,
        *,
        base_url: str | None = None,
        options: TransportOptions | None = None,
        **overrides: Any,
    ) -> None:
        for name, value in (("client_id", client_id), ("client_secret", client_secret), ("account_id", account_id)):
            if not value or any(c.isspace() for c in value):
                # a credentials problem a person must fix, found before any request (no value shown)
                raise AuthenticationError(
                    f"kiwify: the {name} is empty or holds whitespace; give it as Kiwify issued it"
                )
        self._client_id = client_id
        self._client_secret = client_secret
        self.account_id = account_id
        base = base_url or self.DEFAULT_BASE_URL
        self._base_path = httpx.URL(base).path.rstrip("/")
        self.transport = Transport(
            base,
            provider=PROVIDER,
            options=(options or TransportOptions()).with_overrides(**overrides),
            classify=self._classify,
        )
        self.auth = CachedToken(self._fetch_token, self._headers)
        # the token endpoint's last refusal, told apart from a data call refused with a token
        self._token_refusal: AuthenticationError | None = None

    def close(self) -> None:
        self.transport.close()

    def __repr__(self) -> str:  # never the secret
        return f"KiwifyClient(account_id={self.account_id!r})"

    # ------------------------------------------------------------------------------ auth

    def _fetch_token(self) -> tuple[str, datetime]:
        response = self.transport.request(
            "POST", TOKEN_PATH, data={"client_id": self._client_id, "client_secret": self._client_secret}
        )
        token = decode_as(response, _TOKEN, provider=PROVIDER)
        return token.access_token, datetime.now(UTC) + timedelta(seconds=int(token.expires_in))

    def _headers(self, token: str) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token}", ACCOUNT_HEADER: self.account_id, "Accept": "application/json"}

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """One GET with the account's token; a 403 that outlives a fresh token is NotLinkedError."""
        try:
            return self.transport.request("GET", path, params=params, auth=self.auth)
        except AuthenticationError as exc:
            if exc is self._token_refusal or exc.status not in (401, 403) or _json_object(exc.body or "") is None:
                raise
            raise NotLinkedError(
                f"kiwify: account {self.account_id} is not reachable with these credentials (GET {path} answered "
                f"{exc.status} with a token Kiwify had just issued: {_reason(_json_object(exc.body or '') or {})})",
                status=exc.status,
                body=exc.body,
            ) from None

    # ----------------------------------------------------------------------------- sales

    def sale_pages(self, interval: Interval) -> Iterator[list[Landing]]:
        """Pages of the sales created in `interval`, each validated, as (id, status, exact bytes).

        The interval's São Paulo dates are asked for widened by `EDGE` on each side, in windows of at
        most `WINDOW_DATES` dates, and each page is cut to the sales whose `created_at` is in
        [interval.start, interval.end). A sale listed by two windows lands once.
        """
        first, last = interval.first_date - EDGE, interval.last_date + EDGE
        listed: set[str] = set()
        for window_first, window_last in windows(first, last):
            for page in self._sales_window(window_first, window_last):
                kept: list[Landing] = []
                for sale, raw in page:
                    if sale.id in listed:
                        continue
                    listed.add(sale.id)
                    if interval.start <= sale.created_at < interval.end:
                        kept.append((sale.id, sale.status, raw))
                yield kept

    def _sales_window(self, first: date, last: date) -> Iterator[list[tuple[shapes.Sale, msgspec.Raw]]]:
        what = f"sales created {first.isoformat()}..{last.isoformat()}"
        seen: set[str] = set()

        def fetch(number: int) -> _SizedPage:
            params = {
                "start_date": first.isoformat(),
                "end_date": last.isoformat(),
                "view_full_sale_details": "true",
                "page_size": PAGE_SIZE,
                "page_number": number,
            }
            response = self._get(SALES_PATH, params)
            typed = decode_as(response, _SALES_PAGE, provider=PROVIDER)
            raw = decode_as(response, _SALES_PAGE_RAW, provider=PROVIDER).data
            for sale in typed.data:
                day = sale.created_at.astimezone(BUSINESS_TZ).date()
                if not first - EDGE <= day <= last + EDGE:
                    raise shape_error(
                        response,
                        f"sale {sale.id} created {sale.created_at.isoformat()}, not within a day of the dates asked "
                        "for: the dates do not filter by creation as this client relies on",
                        provider=PROVIDER,
                    )
            _check_new(seen, [sale.id for sale in typed.data], what=what, number=number)
            return _numbered(typed.pagination, list(zip(typed.data, raw, strict=True)), what=what)

        return _pages_proven_complete(fetch, what=what)

    def sale(self, sale_id: str) -> tuple[bytes, shapes.Sale]:
        """(the body exactly as Kiwify sent it, its typed reading) of one sale (`GET /v1/sales/{id}`).

        The body must be the sale asked for; a 404 in Kiwify's JSON is NotLinkedError naming it.
        """
        if not _SALE_ID.fullmatch(sale_id):
            raise ValueError(f"kiwify: {sale_id[:40]!r} is not a sale id")
        response = self._get(f"{SALES_PATH}/{quote(sale_id, safe='')}")
        typed = decode_as(response, _SALE, provider=PROVIDER)
        if typed.id != sale_id:
            raise shape_error(response, f"sale {typed.id!r} where sale {sale_id!r} was asked for", provider=PROVIDER)
        return response.content, typed

    # ---------------------------------------------------------------------------- payouts

    def payout_pages(self, interval: Interval) -> Iterator[list[Landing]]:
        """Pages of the payouts created in `interval`, as (id, status, exact bytes).

        Kiwify's payouts list has no date filter and no stated order, so every page is read (the
        pages must add up to `count`) and each is cut to the payouts whose `created_at` is in
        [interval.start, interval.end).
        """
        what = "payouts"
        seen: set[str] = set()

        def fetch(number: int) -> _SizedPage:
            response = self._get(PAYOUTS_PATH, {"page_size": PAGE_SIZE, "page_number": number})
            typed = decode_as(response, _PAYOUTS_PAGE, provider=PROVIDER)
            raw = decode_as(response, _PAYOUTS_PAGE_RAW, provider=PROVIDER).data
            _check_new(seen, [payout.id for payout in typed.data], what=what, number=number)
            return _numbered(typed.pagination, list(zip(typed.data, raw, strict=True)), what=what)

        for page in _pages_proven_complete(fetch, what=what):
            yield [
                (payout.id, payout.status, raw)
                for payout, raw in page
                if interval.start <= payout.created_at < interval.end
            ]

    # ---------------------------------------------------------------------- error answers

    def _classify(self, response: httpx.Response) -> ProviderError | None:
        """What a refusal from Kiwify means, before the transport's generic rules (module docstring)."""
        status = response.status_code
        path = response.request.url.path.removeprefix(self._base_path) or "/"
        if path == TOKEN_PATH:
            if status not in (400, 401, 403):
                return None
            self._token_refusal = AuthenticationError(
                f"kiwify refused the credentials ({status}) on POST {TOKEN_PATH} (the client id or secret): "
                f"{self._redacted(response)}",
                status=status,
                body=self._redacted(response, limit=2000),
            )
            return self._token_refusal
        if status != 404:
            return None
        error = _json_object(response.text) if "json" in response.headers.get("content-type", "").lower() else None
        if error is None:
            return shape_error(
                response, "a body that is not Kiwify's error envelope, so not its documented 404", provider=PROVIDER
            )
        sale = _SALE_PATH.match(path)
        if sale is not None:
            return NotLinkedError(
                f"kiwify: sale {sale[1]} is not reachable with account {self.account_id} (GET {path} answered 404 "
                f"{_reason(error)}): it is another account's sale, or Kiwify no longer serves it",
                status=404,
                body=response.text,
            )
        if path in (SALES_PATH, PAYOUTS_PATH):
            return NotLinkedError(
                f"kiwify: account {self.account_id} is not reachable with these credentials (GET {path} answered 404 "
                f"{_reason(error)})",
                status=404,
                body=response.text,
            )
        return None

    def _redacted(self, response: httpx.Response, limit: int = 300) -> str:
        text = response.text.strip().replace("\n", " ").replace(self._client_secret, "<redacted>")
        return (text[:limit] + ("…" if len(text) > limit else "")) or "no body"


def windows(first: date, last: date) -> list[tuple[date, date]]:
    """[first, last] (inclusive dates) cut into consecutive windows of at most `WINDOW_DATES` dates."""
    cut: list[tuple[date, date]] = []
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=WINDOW_DATES - 1))
        cut.append((start, end))
        start = end + timedelta(days=1)
    return cut


@dataclass(frozen=True)
class _SizedPage(NumberedPage):
    """A numbered page with the page size Kiwify says it used (what makes a page full)."""

    page_size: int = PAGE_SIZE


def _pages_proven_complete(fetch: Callable[[int], _SizedPage], *, what: str) -> Iterator[list[Any]]:
    """The pages up to Kiwify's end signal; and, when the last of them is full, the next page, which
    must be empty.

    `count` is read as the total of the whole query (the sandbox's reading, and the only one under
    which `page_number * page_size >= count` is an end signal), but Kiwify's docs do not say so:
    their example is as consistent with `count` = the items on this page. Under that reading the
    end signal fires on the first full page and the rest would be missed silently. The two readings
    differ only when the last page is full, so then one more page is asked for: empty under the
    documented-by-us reading, records under the other (IncompleteExtractionError, never a silent
    cut). It costs one call only when the count is a multiple of the page size.
    """
    last: list[_SizedPage] = []

    def remembered(number: int) -> _SizedPage:
        page = fetch(number)
        last[:] = [page]
        return page

    yield from iter_numbered_pages(remembered, provider=PROVIDER, what=what)
    if not last or not last[0].records or len(last[0].records) < last[0].page_size:
        return
    after = fetch(last[0].page + 1)
    if after.records or after.total != last[0].total:
        raise IncompleteExtractionError(
            f"{PROVIDER}: {what}: page {after.page}, after the page that reached the count of {last[0].total}, holds "
            f"{len(after.records)} records and states a count of {after.total}: `count` is not the query's total"
        )


def _numbered(pagination: shapes.Pagination, records: list[T], *, what: str) -> _SizedPage:
    """A page as the transport's pager reads it; Kiwify's end signal is page_number * page_size >= count."""
    size, number, count = pagination.page_size, pagination.page_number, pagination.count
    has_next = number * size < count
    if len(records) > size or (has_next and len(records) < size):
        raise IncompleteExtractionError(
            f"{PROVIDER}: {what}: page {number} holds {len(records)} records, but pages of {size} "
            f"{'follow' if has_next else 'end'} there with a count of {count}"
        )
    return _SizedPage(records, number, has_next, count, math.ceil(count / size), size)


def _check_new(seen: set[str], ids: list[str], *, what: str, number: int) -> None:
    """A record listed twice while paging means the data moved: some other record was missed."""
    for ident in ids:
        if ident in seen:
            raise IncompleteExtractionError(
                f"{PROVIDER}: {what}: {ident} came twice (again on page {number}): the data moved while we paged"
            )
        seen.add(ident)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        return _ERROR.decode(text.encode())
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _reason(error: Mapping[str, Any]) -> str:
    """Kiwify's message from its error JSON: `{message}`, `{error}` or `{error: {code, message}}`."""
    nested = error.get("error") if isinstance(error.get("error"), dict) else {}
    said = (error.get("message"), error.get("error"), nested.get("code"), nested.get("message"))
    return ": ".join(part for part in said if isinstance(part, str) and part) or "with no message"
