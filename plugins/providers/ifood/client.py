"""The HTTP client of iFood's Financial v3.0 API: every answer checked against its documented shape.

Auth is OAuth2 client credentials (form-encoded, camelCase fields) giving a bearer token that we
cache until `expiresIn` says otherwise and renew on 401. Listings are fetched in the date windows
the API accepts; iFood's error bodies decide what a 403 or 404 means (an unlinked merchant, a
window without settlements, a forgotten report request) before the transport's generic rules do.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import httpx
import msgspec

from plugins.providers.errors import IncompleteExtractionError, NotLinkedError, ProviderError
from plugins.providers.ifood import shapes
from plugins.providers.ifood.records import COMPETENCE, parse_reconciliation_csv
from plugins.providers.transport import (
    RETRYABLE_STATUSES,
    CachedToken,
    NumberedPage,
    Transport,
    TransportOptions,
    decode_as,
    decode_json,
    iter_numbered_pages,
    shape_error,
)

log = logging.getLogger(__name__)
E = TypeVar("E")

SALES_MAX_WINDOW_DAYS = 90
EVENTS_MAX_WINDOW_DAYS = 31
SETTLEMENTS_MAX_WINDOW_DAYS = 31
ANTICIPATIONS_MAX_WINDOW_DAYS = 31
# A pre-signed report link that S3 refuses (expired) is replaced by a fresh one this many times.
REPORT_LINK_ATTEMPTS = 3

# The on-demand POST answers 409 (or 400 with code "409") when a recent request for the same
# competence exists; that answer carries the request id we need, so it must not be retried.
_ON_DEMAND_RETRY_STATUSES = RETRYABLE_STATUSES - {409, 425}
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_EXISTING_REQUEST = re.compile(rf"request\s*id\W*({_UUID})", re.IGNORECASE)
_MERCHANT_PATH = re.compile(r"/merchants/([^/?]+)")
_ON_DEMAND_STATUS_PATH = re.compile(r"/reconciliation/on-demand/([^/?]+)")

_TOKEN = msgspec.json.Decoder(shapes.Token)
_SALES = msgspec.json.Decoder(shapes.SalesBody)
_EVENTS = msgspec.json.Decoder(shapes.EventsBody)
_SETTLEMENTS = msgspec.json.Decoder(shapes.SettlementsBody)
_ANTICIPATIONS = msgspec.json.Decoder(shapes.AnticipationsBody)
_ON_DEMAND_REQUEST = msgspec.json.Decoder(shapes.OnDemandRequestBody)
_ON_DEMAND_STATUS = msgspec.json.Decoder(shapes.OnDemandStatusBody)
_ERROR = msgspec.json.Decoder(shapes.ErrorBody)


class ReconciliationReportError(ProviderError):
    """iFood reported that it could not generate a reconciliation file (status `error`)."""

    def __init__(self, message: str, *, report_message: str, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.report_message = report_message


class IfoodClient:
    """Typed access to iFood's Financial v3.0 endpoints: every answer is checked against its shape.

    Records come back as plain dicts (exact Decimals for fractional numbers), because they land
    in raw as the provider sent them; each page is also decoded into its typed shape, which is
    what proves it complete (see `shapes.py`).
    """

    DEFAULT_BASE_URL = "https://merchant-api.ifood.com.br"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        base_url: str | None = None,
        options: TransportOptions | None = None,
        **overrides: Any,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self.transport = Transport(
            base_url or self.DEFAULT_BASE_URL,
            provider="ifood",
            options=(options or TransportOptions()).with_overrides(**overrides),
            classify=_classify_refusal,
        )
        self.auth = CachedToken(self._fetch_token, lambda token: {"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self.transport.close()

    def _fetch_token(self) -> tuple[str, datetime]:
        response = self.transport.request(
            "POST",
            "/authentication/v1.0/oauth/token",
            data={"grantType": "client_credentials", "clientId": self._client_id, "clientSecret": self._client_secret},
        )
        token = decode_as(response, _TOKEN, provider="ifood")
        return token.accessToken, datetime.now(UTC) + timedelta(seconds=token.expiresIn)

    def _get(
        self, path: str, decoder: msgspec.json.Decoder[Any], params: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """GET a body, checked against its shape; (typed envelope, the same envelope as plain data)."""
        response = self.transport.request("GET", path, params=params, auth=self.auth)
        return self._both(response, decoder)

    def _both(self, response: httpx.Response, decoder: msgspec.json.Decoder[Any]) -> tuple[Any, dict[str, Any]]:
        typed = _one(response, decode_as(response, decoder, provider="ifood"))
        plain = _one(response, decode_json(response, provider="ifood"))
        return typed, plain

    def sales(self, merchant_id: str, begin: date, end: date) -> Iterator[dict[str, Any]]:
        """Every sale whose date is in [begin, end], in windows the API accepts.

        Pages run until `page` reaches `pageCount`; the sales fetched must add up to `total`.
        """
        path = f"/financial/v3.0/merchants/{merchant_id}/sales"
        for window_begin, window_end in _windows(begin, end, SALES_MAX_WINDOW_DAYS):

            def fetch(page: int, b: date = window_begin, e: date = window_end) -> NumberedPage:
                typed, plain = self._get(
                    path, _SALES, {"beginSalesDate": b.isoformat(), "endSalesDate": e.isoformat(), "page": page}
                )
                return NumberedPage(
                    plain["sales"], typed.page, typed.page < typed.pageCount, typed.total, typed.pageCount
                )

            what = f"sales of merchant {merchant_id} {window_begin}..{window_end}"
            for page in iter_numbered_pages(fetch, provider="ifood", what=what):
                yield from page

    def financial_events(
        self, merchant_id: str, begin: date, end: date, *, size: int = 500
    ) -> Iterator[dict[str, Any]]:
        """Every ledger entry dated in [begin, end]; pages run until `hasNextPage` is false."""
        path = f"/financial/v3.0/merchants/{merchant_id}/financial-events"
        for window_begin, window_end in _windows(begin, end, EVENTS_MAX_WINDOW_DAYS):

            def fetch(page: int, b: date = window_begin, e: date = window_end) -> NumberedPage:
                typed, plain = self._get(
                    path, _EVENTS, {"beginDate": b.isoformat(), "endDate": e.isoformat(), "page": page, "size": size}
                )
                if len(typed.financialEvents) > size:
                    raise IncompleteExtractionError(
                        f"ifood: GET {path} page {page} holds {len(typed.financialEvents)} entries, more than the "
                        f"page size {size} we asked for"
                    )
                return NumberedPage(plain["financialEvents"], typed.page, typed.hasNextPage)

            what = f"financial events of merchant {merchant_id} {window_begin}..{window_end}"
            for page in iter_numbered_pages(fetch, provider="ifood", what=what):
                yield from page

    def settlements(self, merchant_id: str, begin: date, end: date) -> Iterator[dict[str, Any]]:
        """The settlements envelope of every payment-date window (≤ 31 days) in [begin, end].

        Not paginated. A window without settlements is iFood's documented 404 whose error code is
        `NO_SETTLEMENTS_FOUND`; any other 404 is an error (NotLinkedError for iFood's own error
        body, ResponseShapeError for anything else, such as a proxy's HTML page).
        """
        return self._windowed_envelopes(
            f"/financial/v3.0/merchants/{merchant_id}/settlements",
            begin,
            end,
            SETTLEMENTS_MAX_WINDOW_DAYS,
            ("beginPaymentDate", "endPaymentDate"),
            _SETTLEMENTS,
            empty_when=_says_no_settlements,
        )

    def anticipations(self, merchant_id: str, begin: date, end: date) -> Iterator[dict[str, Any]]:
        """The anticipations envelope of every calculation-date window (≤ 31 days) in [begin, end].

        A merchant without an anticipation plan answers iFood's 404 saying so (code
        `NO_ANTICIPATION_PLAN`): nothing to extract. Any other 404 is an error, as for settlements.
        """
        return self._windowed_envelopes(
            f"/financial/v3.0/merchants/{merchant_id}/anticipations",
            begin,
            end,
            ANTICIPATIONS_MAX_WINDOW_DAYS,
            ("beginCalculationDate", "endCalculationDate"),
            _ANTICIPATIONS,
            empty_when=_says_no_anticipation_plan,
        )

    def _windowed_envelopes(
        self,
        path: str,
        begin: date,
        end: date,
        max_days: int,
        params: tuple[str, str],
        decoder: msgspec.json.Decoder[Any],
        *,
        empty_when: Callable[[tuple[str, str] | None], bool],
    ) -> Iterator[dict[str, Any]]:
        """One unpaginated envelope per date window; a 404 whose body `empty_when` accepts is an empty window."""
        for window_begin, window_end in _windows(begin, end, max_days):
            response = self.transport.request(
                "GET",
                path,
                params={params[0]: window_begin.isoformat(), params[1]: window_end.isoformat()},
                auth=self.auth,
                accept_statuses=(404,),
            )
            if response.status_code == 404:
                if empty_when(_error_of(response)):
                    continue
                raise _classify_refusal(response) or shape_error(response, "an undocumented 404", provider="ifood")
            yield self._both(response, decoder)[1]

    def reconciliation_report(
        self,
        merchant_id: str,
        competence: str,
        *,
        poll_timeout_s: float = 600.0,
        poll_initial_s: float = 2.0,
        poll_max_s: float = 30.0,
    ) -> list[dict[str, Any]]:
        """The lines of the on-demand reconciliation file of `competence` (YYYY-MM).

        Requests the file (or reuses the recent request iFood tells us about in its 409), polls
        with backoff until it is processed, downloads the pre-signed link without our token,
        and parses the gzipped `;` CSV by header name. The link expires (S3 answers 403): a
        refused download polls again for a fresh link, up to REPORT_LINK_ATTEMPTS links.
        """
        request_id = self.request_reconciliation(merchant_id, competence)
        for attempt in range(1, REPORT_LINK_ATTEMPTS + 1):
            download_path = self.wait_for_reconciliation(
                merchant_id, request_id, timeout_s=poll_timeout_s, initial_s=poll_initial_s, max_s=poll_max_s
            )
            try:
                content = self.transport.download(download_path)
            except ProviderError as exc:
                if exc.status != 403:
                    raise
                if attempt == REPORT_LINK_ATTEMPTS:
                    raise ProviderError(
                        f"ifood: the reconciliation file of merchant {merchant_id} for {competence} was refused "
                        f"(403, an expired or invalid link) on {attempt} fresh links in a row: {exc}",
                        status=403,
                        body=exc.body,
                    ) from exc
                log.warning("ifood: reconciliation link refused (%s); polling for a fresh one", exc)
                continue
            source = f"reconciliation file of merchant {merchant_id} for {competence} (request {request_id})"
            return parse_reconciliation_csv(content, source=source)
        raise AssertionError("unreachable")  # pragma: no cover

    def request_reconciliation(self, merchant_id: str, competence: str) -> str:
        """POST an on-demand request; the id of a new request, or of the recent one iFood keeps."""
        if not COMPETENCE.fullmatch(competence):
            raise ValueError(f"competence must be YYYY-MM, got {competence!r}")
        response = self.transport.request(
            "POST",
            f"/financial/v3.0/merchants/{merchant_id}/reconciliation/on-demand",
            json={"competence": competence},
            auth=self.auth,
            retry_statuses=_ON_DEMAND_RETRY_STATUSES,
            accept_statuses=(400, 409),
        )
        if response.status_code in (400, 409):
            existing = _existing_request_id(response)
            if existing is None:
                raise ProviderError(
                    f"ifood: POST {response.request.url.path} answered {response.status_code}: {response.text[:300]}",
                    status=response.status_code,
                    body=response.text,
                )
            return existing
        return self._both(response, _ON_DEMAND_REQUEST)[0].requestId

    def wait_for_reconciliation(
        self,
        merchant_id: str,
        request_id: str,
        *,
        timeout_s: float = 600.0,
        initial_s: float = 2.0,
        max_s: float = 30.0,
    ) -> str:
        """Poll an on-demand request until it is processed; its downloadPath."""
        deadline = self.transport.now() + timeout_s
        delay = initial_s
        path = f"/financial/v3.0/merchants/{merchant_id}/reconciliation/on-demand/{request_id}"
        while True:
            status, _ = self._get(path, _ON_DEMAND_STATUS)
            state = status.status.lower()
            if state == "processed":
                return str(status.downloadPath)
            if state == "error":
                message = status.message or ""
                raise ReconciliationReportError(
                    f"ifood: reconciliation request {request_id} failed: {message or 'no message'}",
                    report_message=message,
                )
            remaining = deadline - self.transport.now()
            if remaining <= 0:
                raise ProviderError(
                    f"ifood: reconciliation request {request_id} still {state!r} after {timeout_s:.0f}s"
                )
            self.transport.sleep(min(delay, remaining))
            delay = min(delay * 2, max_s)


def _error_of(response: httpx.Response) -> tuple[str, str] | None:
    """(code, message) of an iFood error body in any of its documented forms; None for anything else.

    None means the body is not iFood's (an HTML page from a proxy, an empty body): such an answer
    can never be one of iFood's documented signals.
    """
    if "json" not in response.headers.get("content-type", "").lower():
        return None
    try:
        body = _ERROR.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if isinstance(body.error, shapes._ErrorDetail):
        code, message = body.error.code, body.error.message
    else:
        code, message = body.error if body.error is not None else body.code, body.message
    if code is None and message is None:
        return None
    return str(code or ""), str(message or "")


def _says_no_settlements(error: tuple[str, str] | None) -> bool:
    """iFood's 404 for a window without settlements: code NO_SETTLEMENTS_FOUND (or its message)."""
    if error is None:
        return False
    code, message = error
    return (
        code.upper() == "NO_SETTLEMENTS_FOUND" or re.search(r"no settlements? (were )?found", message, re.I) is not None
    )


def _says_no_anticipation_plan(error: tuple[str, str] | None) -> bool:
    """iFood's 404 for a merchant without an anticipation plan: code NO_ANTICIPATION_PLAN (or its message)."""
    if error is None:
        return False
    code, message = error
    return code.upper() == "NO_ANTICIPATION_PLAN" or re.search(r"no anticipation plan", message, re.I) is not None


def _classify_refusal(response: httpx.Response) -> ProviderError | None:
    """What a 403 or 404 from iFood means, before the transport's generic rules apply.

    - 404 on an on-demand request id: iFood forgot the request (they live about 24 h);
    - 404 on any other merchant path, with iFood's error body: the merchant is unknown to the
      application (NotLinkedError); with any other body (HTML from a proxy): ResponseShapeError;
    - 403 on a merchant path whose error names the merchant: the merchant is not linked to the
      application (NotLinkedError), which a fresh token would not change.
    Everything else (401, other 403s: bad or expired credentials) is left to the transport.
    """
    status = response.status_code
    path = response.request.url.path
    merchant = _MERCHANT_PATH.search(path)
    if status not in (403, 404) or merchant is None:
        return None
    error = _error_of(response)
    where = f"{response.request.method} {path}"
    if status == 404:
        if error is None:
            return shape_error(
                response, "a body that is not iFood's error envelope, so not its documented 404", provider="ifood"
            )
        request = _ON_DEMAND_STATUS_PATH.search(path)
        if request is not None:
            return ProviderError(
                f"ifood: reconciliation request {request[1]} is unknown to iFood ({where} answered 404: "
                f"{error[1] or error[0]}); requests expire after about 24 h",
                status=404,
                body=response.text,
            )
        return NotLinkedError(
            f"ifood: merchant {merchant[1]} was not found for this application ({where} answered 404: "
            f"{error[1] or error[0]})",
            status=404,
            body=response.text,
        )
    if error is not None and "merchant" in f"{error[0]} {error[1]}".lower():
        return NotLinkedError(
            f"ifood: merchant {merchant[1]} is not linked to this application ({where} answered 403: "
            f"{error[1] or error[0]})",
            status=403,
            body=response.text,
        )
    return None


def _existing_request_id(response: httpx.Response) -> str | None:
    """The id of the recent request a 409 (or a 400 with code "409") points at, if any."""
    error = _error_of(response)
    if error is None:
        return None
    code, message = error
    if response.status_code == 400 and code != "409" and "already a recent" not in message.lower():
        return None
    match = _EXISTING_REQUEST.search(message)
    return match.group(1) if match else None


def _one(response: httpx.Response, body: E | list[E]) -> E:
    """The envelope, whether iFood sent it bare or (as its reference examples do) in a one-element array."""
    if isinstance(body, list):
        if len(body) != 1:
            raise shape_error(
                response,
                f"a list of {len(body)} envelopes where one (bare or in a list) was documented",
                provider="ifood",
            )
        return body[0]
    return body


def _windows(begin: date, end: date, max_days: int) -> Iterator[tuple[date, date]]:
    current = begin
    while current <= end:
        window_end = min(end, current + timedelta(days=max_days - 1))
        yield current, window_end
        current = window_end + timedelta(days=1)
