"""The HTTP client of Mercado Pago's API: the account behind a token, and its payments by last update
and by release.

Auth is the account's access token (`APP_USR-…` in production, `TEST-…` for test credentials) as
`Authorization: Bearer <token>`; it does not expire on a schedule we could renew, so a refusal is
final (AuthenticationError). Payments come from `GET /v1/payments/search` in two passes over the
window, each filtered and sorted by one date (`range`, `sort`) and paged by `offset`/`limit` until
the offset reaches `paging.total`:

1. `date_last_updated`: every payment that changed in the window (created, approved, refunded,
   charged back, expired: each changes the payment, so its last update);
2. `money_release_date`: every payment whose money is released in the window and that the first
   pass did not list. MP documents `money_release_date` among the search's `range` values (API
   reference "Search payments", `…/reference/payments/_payments_search/get`: "The range can refer
   to … "date_created", "date_last_updated", "date_approved", "money_release_date""), but nowhere
   that a release moves `date_last_updated` (`../shared/reference/providers-gateways.md` §9 leaves it
   open; MP's own example payment in the guide "Received payments management" shows a last update a
   week after its release date, which fits either reading). So we do not rely on it: a release
   lands in the sync of its day whichever way MP behaves.

The search answers at most `OFFSET_CAP` deep, so a window with more payments than that is split in
two until every window fits, and the halves must add up to the total the window stated. MP's error
bodies decide what a 401, 403 or 404 means before the transport's generic rules do.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import msgspec

from plugins.providers.base import BUSINESS_TZ
from plugins.providers.errors import (
    AuthenticationError,
    IncompleteExtractionError,
    NotLinkedError,
    ProviderError,
)
from plugins.providers.mercadopago import shapes
from plugins.providers.transport import Transport, TransportOptions, decode_as, shape_error

PROVIDER = "mercadopago"
SEARCH_PATH = "/v1/payments/search"
ACCOUNT_PATH = "/users/me"
# "limit: max value = 50" and "offset: max. allowed: 10000" (MP's guide "Received payments
# management"; the SDK's auto-pager asks for 100, so 50 is within both readings).
PAGE_LIMIT = 50
OFFSET_CAP = 10_000
# MP's date filters read milliseconds (`yyyy-MM-dd'T'HH:mm:ss.SSSZ`, its error 1001).
RESOLUTION = timedelta(milliseconds=1)
# The dates the window is searched by, in this order (see the module docstring), and how messages name them.
LAST_UPDATED = "date_last_updated"
RELEASED = "money_release_date"
PASSES = (LAST_UPDATED, RELEASED)
_WHAT = {LAST_UPDATED: "last updated", RELEASED: "with money released"}

_SEARCH_PAGE = msgspec.json.Decoder(shapes.SearchPage)
_SEARCH_PAGE_RAW = msgspec.json.Decoder(shapes.SearchPageRaw)
_USER = msgspec.json.Decoder(shapes.User)
_ERROR = msgspec.json.Decoder(shapes.ErrorBody)

# One payment as it lands: (payment id, its external_reference, its exact JSON bytes).
PaymentRecord = tuple[str, str | None, msgspec.Raw]


class BearerToken:
    """The access token as a `TokenSource`: a fixed header, nothing to renew."""

    def __init__(self, access_token: str) -> None:
        if not access_token:
            raise ValueError("mercadopago: an access token is required")
        self._headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}

    def headers(self) -> Mapping[str, str]:
        return self._headers

    def invalidate(self) -> None:
        """Nothing to renew: MP's access tokens are issued by the account holder, not fetched by us."""

    def __repr__(self) -> str:  # never the token
        return "BearerToken(<redacted>)"


class MercadoPagoClient:
    """Typed access to the Mercado Pago endpoints we use: every answer is checked against its shape."""

    DEFAULT_BASE_URL = "https://api.mercadopago.com"

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str | None = None,
        options: TransportOptions | None = None,
        **overrides: Any,
    ) -> None:
        self._base_path = httpx.URL(base_url or self.DEFAULT_BASE_URL).path.rstrip("/")
        self.transport = Transport(
            base_url or self.DEFAULT_BASE_URL,
            provider=PROVIDER,
            options=(options or TransportOptions()).with_overrides(**overrides),
            classify=self._classify_refusal,
        )
        self.auth = BearerToken(access_token)

    def close(self) -> None:
        self.transport.close()

    # ------------------------------------------------------------------------ the account

    def account(self) -> shapes.User:
        """The account the token belongs to (`GET /users/me`): its id and the document it is registered under."""
        response = self.transport.request("GET", ACCOUNT_PATH, auth=self.auth)
        return decode_as(response, _USER, provider=PROVIDER)

    # ------------------------------------------------------------------------- payments

    def payment_pages(self, start: datetime, end: datetime) -> Iterator[list[PaymentRecord]]:
        """Pages of every payment last updated or released in [start, end), each validated, as exact bytes.

        One pass per date of `PASSES`; a payment the first pass listed is left out of the second
        (so each lands once). The window is cut at MP's millisecond resolution and sent as an
        inclusive range: `begin_date` = start, `end_date` = end - 1 ms (both rounded up to the
        millisecond, so a payment stamped at a millisecond t is asked for exactly when start <= t < end).
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("mercadopago: window bounds must be timezone-aware")
        begin, stop = _ceil_ms(start), _ceil_ms(end)
        if stop <= begin:
            return
        listed: set[str] = set()
        for by in PASSES:
            for page in self._window(by, begin, stop):
                fresh = [record for record in page if record[0] not in listed]
                listed.update(payment_id for payment_id, _, _ in fresh)
                yield fresh

    def _window(self, by: str, begin: datetime, stop: datetime) -> Generator[list[PaymentRecord], None, int]:
        """The pages of one window; returns how many payments it held.

        A window holding more payments than the search can page through (`OFFSET_CAP`) is split
        at its midpoint and each half asked for again, until every window fits; what the halves
        hold must add up to the total the whole window stated (IncompleteExtractionError otherwise).
        """
        first = self._search(by, begin, stop, offset=0)
        total = first[0].paging.total
        if total <= OFFSET_CAP:
            return (yield from self._window_pages(by, begin, stop, first))
        middle = _middle(begin, stop)
        if middle is None:
            raise IncompleteExtractionError(
                f"{PROVIDER}: {total} payments {_WHAT[by]} in the millisecond {_iso(begin)}, more than "
                f"the {OFFSET_CAP} the search can page through"
            )
        fetched = yield from self._window(by, begin, middle)
        fetched += yield from self._window(by, middle, stop)
        if fetched != total:
            raise IncompleteExtractionError(
                f"{PROVIDER}: payments {_WHAT[by]} {_iso(begin)}..{_iso(stop - RESOLUTION)}: Mercado Pago stated "
                f"a total of {total}, but the two halves the window was split into hold {fetched}"
            )
        return fetched

    def _window_pages(
        self,
        by: str,
        begin: datetime,
        stop: datetime,
        first: tuple[shapes.SearchPage, list[msgspec.Raw], httpx.Response],
    ) -> Generator[list[PaymentRecord], None, int]:
        """Follow `offset` from the first page until it reaches the stated total; check it adds up.

        Ends only on MP's own signal (offset + records on the page >= `paging.total`). An empty page
        before that, a page that is not the slice asked for, a total that changes between pages or a
        payment that comes twice all mean records were missed or doubled (the data moved while we
        paged): IncompleteExtractionError, and nothing of the interval lands.
        """
        what = f"payments {_WHAT[by]} {_iso(begin)}..{_iso(stop - RESOLUTION)}"
        total = first[0].paging.total
        seen: set[int] = set()
        offset = 0
        page: tuple[shapes.SearchPage, list[msgspec.Raw], httpx.Response] | None = first
        while True:
            if page is None:
                page = self._search(by, begin, stop, offset=offset)
            typed, raw, response = page
            page = None
            if typed.paging.offset != offset:
                raise IncompleteExtractionError(
                    f"{PROVIDER}: {what}: asked for offset {offset}, got the page at offset {typed.paging.offset}"
                )
            if typed.paging.total != total:
                raise IncompleteExtractionError(
                    f"{PROVIDER}: {what}: the page at offset {offset} states a total of {typed.paging.total}, "
                    f"the first page stated {total}: the data moved while we paged"
                )
            if len(typed.results) > PAGE_LIMIT:
                raise IncompleteExtractionError(
                    f"{PROVIDER}: {what}: the page at offset {offset} holds {len(typed.results)} payments, "
                    f"more than the limit {PAGE_LIMIT} we asked for"
                )
            records: list[PaymentRecord] = []
            for payment, payload in zip(typed.results, raw, strict=True):
                if payment.id in seen:
                    raise IncompleteExtractionError(
                        f"{PROVIDER}: {what}: payment {payment.id} came twice (at offset {offset}): "
                        "the data moved while we paged"
                    )
                moment: datetime | None = getattr(payment, by)
                if moment is None or not begin <= moment < stop:
                    raise shape_error(
                        response,
                        f"payment {payment.id} with {by} {moment.isoformat() if moment else None}, outside the "
                        f"range asked for",
                        provider=PROVIDER,
                    )
                seen.add(payment.id)
                records.append((str(payment.id), payment.external_reference, payload))
            offset += len(records)
            yield records
            if offset >= total:
                break
            if not records:
                raise IncompleteExtractionError(
                    f"{PROVIDER}: {what}: the page at offset {offset} is empty, but {total} payments were stated"
                )
        if offset != total:
            raise IncompleteExtractionError(
                f"{PROVIDER}: {what}: fetched {offset} payments, but Mercado Pago stated a total of {total}"
            )
        return offset

    def _search(
        self, by: str, begin: datetime, stop: datetime, *, offset: int
    ) -> tuple[shapes.SearchPage, list[msgspec.Raw], httpx.Response]:
        response = self.transport.request(
            "GET", SEARCH_PATH, params=search_params(begin, stop, offset=offset, by=by), auth=self.auth
        )
        return (*read_search_page(response), response)

    # --------------------------------------------------------------------- error answers

    def _classify_refusal(self, response: httpx.Response) -> ProviderError | None:
        """What a 401, 403 or 404 from MP means, before the transport's generic rules apply.

        - 401, whatever the body: the access token is wrong, revoked or of another environment
          (MP: `invalid access token`, `Unauthorized use of live credentials`). The token cannot be
          renewed on our side, so it fails at once;
        - 403 with MP's error body (e.g. its policy layer's `PA_UNAUTHORIZED_RESULT_FROM_POLICIES`):
          the token is genuine but its account may not read this (blocked, not enabled for the
          API): NotLinkedError. Any other 403 body (a proxy's page) is left to the transport;
        - 404 on the account with MP's error body: the account behind the token is gone
          (NotLinkedError); a 404 whose body is not MP's error envelope (an HTML page from a proxy)
          is not MP's answer at all: ResponseShapeError.
        Messages carry MP's message and never the token (it travels in a header, not the URL).
        """
        status = response.status_code
        if status not in (401, 403, 404):
            return None
        path = response.request.url.path.removeprefix(self._base_path) or "/"
        where = f"{response.request.method} {path}"
        error = _error_of(response)
        if status == 401:
            reason = _reason(error) if error is not None else _plain_snippet(response)
            return AuthenticationError(
                f"{PROVIDER} refused the credentials (401) on {where}: {reason}", status=401, body=response.text
            )
        if status == 403:
            if error is None:
                return None
            return NotLinkedError(
                f"{PROVIDER}: the account of this access token is not reachable for {where} "
                f"(answered 403 {_reason(error)})",
                status=403,
                body=response.text,
            )
        if error is None:
            return shape_error(
                response,
                "a body that is not Mercado Pago's error envelope, so not its documented 404",
                provider=PROVIDER,
            )
        if path == ACCOUNT_PATH:
            return NotLinkedError(
                f"{PROVIDER}: the account of this access token was not found ({where} answered 404 {_reason(error)})",
                status=404,
                body=response.text,
            )
        return None


def read_search_page(response: httpx.Response) -> tuple[shapes.SearchPage, list[msgspec.Raw]]:
    """A search answer checked against its shape, and each payment's exact bytes (what lands).

    Amounts are decoded straight into Decimal from the digits MP wrote (never through float); a
    missing or mistyped field is a ResponseShapeError naming the payment (`results[3], id 123`).
    """
    typed = decode_as(response, _SEARCH_PAGE, provider=PROVIDER)
    return typed, decode_as(response, _SEARCH_PAGE_RAW, provider=PROVIDER).results


def search_params(begin: datetime, stop: datetime, *, offset: int, by: str = LAST_UPDATED) -> dict[str, str | int]:
    """The query of one search page: payments whose date `by` is in [begin, stop), oldest first."""
    return {
        "range": by,
        "begin_date": _iso(begin),
        "end_date": _iso(stop - RESOLUTION),
        "sort": by,
        "criteria": "asc",
        "offset": offset,
        "limit": PAGE_LIMIT,
    }


def _iso(moment: datetime) -> str:
    """ISO-8601 with milliseconds and the São Paulo offset, as MP's examples write dates."""
    return moment.astimezone(BUSINESS_TZ).isoformat(timespec="milliseconds")


def _ceil_ms(moment: datetime) -> datetime:
    """The first millisecond at or after `moment`."""
    extra = moment.microsecond % 1000
    return moment if extra == 0 else moment + timedelta(microseconds=1000 - extra)


def _middle(begin: datetime, stop: datetime) -> datetime | None:
    """A millisecond strictly between begin and stop (the window's midpoint), or None if there is none."""
    steps = (stop - begin) // RESOLUTION
    return begin + (steps // 2) * RESOLUTION if steps >= 2 else None


def _error_of(response: httpx.Response) -> shapes.ErrorBody | None:
    """MP's error body, or None when the body is not one (an HTML page, an empty body)."""
    if "json" not in response.headers.get("content-type", "").lower():
        return None
    try:
        return _ERROR.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _reason(error: shapes.ErrorBody) -> str:
    code = error.error if error.error is not None else error.code
    causes = "; ".join(
        f"{cause.code}: {cause.description}" for cause in error.cause or () if cause.code or cause.description
    )
    return f"{code}: {error.message}" + (f" ({causes})" if causes else "")


def _plain_snippet(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200] + ("…" if len(text) > 200 else "") if text else "no body"
