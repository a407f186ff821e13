"""The HTTP client of Hotmart's Payments API: an OAuth token, and the three sales listings we read.

Auth (`POST {token base}/security/oauth/token`, `grant_type=client_credentials`, the "Basic"
string Hotmart issues with the credential as `Authorization: Basic …`) gives an access token
that lives `expires_in` seconds (86400 per the scraped reference); it is cached and reused until
a minute before it expires (`CachedToken`), and renewed once when the API answers 401. In
production the token host (`api-sec-vlc.hotmart.com`) is not the API host
(`developers.hotmart.com`): `token_base_for` derives it from the one configurable base URL, so a
sandbox serving both under one base (`…/hotmart/security/oauth/token`,
`…/hotmart/payments/api/v1/…`) needs nothing else. `client_id` and `grant_type` travel in the
query string as Hotmart documents; `client_secret` travels in the form body, not in the URL,
because URLs are written to logs (httpx logs every request URL at INFO) and secrets never are.

Listings (`/sales/history`, `/sales/commissions`, `/sales/price/details`) are read either for a
window of dates (`start_date`/`end_date`, epoch milliseconds, and one `transaction_status`) or
for one sale (`transaction=`). They page by cursor: `max_results` and `page_token`, the next token
in `page_info.next_page_token`, absent on the last page, which is the only end signal; the pages
must add up to `page_info.total_results`, the same on every page (IncompleteExtractionError
otherwise), and a listing filtered by status must hold sales of that status only.

Error answers, before the transport's generic rules:
- at the token endpoint, 400, 401 or 403 mean the client id, secret or Basic string is wrong:
  AuthenticationError at once;
- on the API, 401 gets one fresh token, then AuthenticationError (the transport's rule); 403 in
  Hotmart's error body (`unauthorized_client`: the credential may not read this account's sales)
  is NotLinkedError; 404 in Hotmart's error body is RequestRejectedError (a path Hotmart does not
  serve: a wrong base URL or a changed API), in any other body ResponseShapeError; other 4xx are
  RequestRejectedError with Hotmart's `error_description`;
- 429 is retried honouring `Retry-After` (or `RateLimit-Reset`), then RateLimitedError; 5xx and
  timeouts are retried (the transport's rules).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec

from plugins.providers.errors import (
    AuthenticationError,
    IncompleteExtractionError,
    NotLinkedError,
    ProviderError,
    RequestRejectedError,
)
from plugins.providers.hotmart import shapes
from plugins.providers.transport import CachedToken, Transport, TransportOptions, decode_as, shape_error

PROVIDER = "hotmart"
DEFAULT_BASE_URL = "https://developers.hotmart.com"
PRODUCTION_TOKEN_BASE_URL = "https://api-sec-vlc.hotmart.com"
TOKEN_PATH = "/security/oauth/token"
API_PATH = "/payments/api/v1"
HISTORY_PATH = f"{API_PATH}/sales/history"
COMMISSIONS_PATH = f"{API_PATH}/sales/commissions"
PRICE_DETAILS_PATH = f"{API_PATH}/sales/price/details"
# Hotmart documents no maximum for `max_results`; its pagination example pages by 50.
PAGE_SIZE = 50

_TOKEN = msgspec.json.Decoder(shapes.AccessToken)
_ERROR = msgspec.json.Decoder(shapes.ErrorBody)
_RAW_PAGE = msgspec.json.Decoder(shapes.RawPage)
_SALES = msgspec.json.Decoder(shapes.SalesPage)
_COMMISSIONS = msgspec.json.Decoder(shapes.CommissionsPage)
_PRICE_DETAILS = msgspec.json.Decoder(shapes.PriceDetailsPage)


@dataclass(frozen=True)
class Listed:
    """One item of a listing: its transaction, its typed reading, and its exact bytes (what lands)."""

    transaction: str
    item: Any
    raw: msgspec.Raw


@dataclass(frozen=True)
class _Endpoint:
    path: str
    what: str
    decoder: msgspec.json.Decoder[Any]


SALES = _Endpoint(HISTORY_PATH, "sales", _SALES)
COMMISSIONS = _Endpoint(COMMISSIONS_PATH, "commissions", _COMMISSIONS)
PRICE_DETAILS = _Endpoint(PRICE_DETAILS_PATH, "price details", _PRICE_DETAILS)


def token_base_for(base_url: str) -> str:
    """Where the token endpoint is for an API base URL: Hotmart's own hosts use its auth host,
    any other base (a sandbox, a proxy) serves `/security/oauth/token` itself."""
    host = httpx.URL(base_url).host
    if host == "hotmart.com" or host.endswith(".hotmart.com"):
        return PRODUCTION_TOKEN_BASE_URL
    return base_url.rstrip("/")


def basic_header(basic: str) -> str:
    """The `Authorization` value for the token request from the "Basic" string Hotmart issues.

    Hotmart's credentials page shows it with its `Basic ` prefix; some guides have people copy
    it without. Both are accepted; anything empty or with inner whitespace is not a credential
    (AuthenticationError before any request, without echoing the value).
    """
    text = basic.strip()
    if text[:6].lower() == "basic ":
        text = text[6:].strip()
    if not text or any(c.isspace() for c in text):
        raise AuthenticationError("hotmart: the Basic credential is empty or malformed; give it as Hotmart issued it")
    return f"Basic {text}"


class _BasicAuth:
    """The credential's Basic string on the token request; nothing to renew."""

    def __init__(self, value: str) -> None:
        self._headers = {"Authorization": value, "Accept": "application/json"}

    def headers(self) -> Mapping[str, str]:
        return self._headers

    def invalidate(self) -> None:
        return None

    def __repr__(self) -> str:
        return "_BasicAuth(<redacted>)"


class HotmartClient:
    """Typed access to the Hotmart endpoints we use: every answer is checked against its shape."""

    DEFAULT_BASE_URL = DEFAULT_BASE_URL

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        basic: str,
        *,
        base_url: str | None = None,
        token_base_url: str | None = None,
        options: TransportOptions | None = None,
        page_size: int = PAGE_SIZE,
        **overrides: Any,
    ) -> None:
        base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._base_path = httpx.URL(base).path.rstrip("/")
        self._token_url = (token_base_url or token_base_for(base)).rstrip("/") + TOKEN_PATH
        self._client_id = client_id
        self._client_secret = client_secret
        self._basic = _BasicAuth(basic_header(basic))
        self.page_size = page_size
        self.transport = Transport(
            base,
            provider=PROVIDER,
            options=(options or TransportOptions()).with_overrides(**overrides),
            classify=self._classify_refusal,
        )
        self.auth = CachedToken(
            self._fetch_token, lambda token: {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )

    def close(self) -> None:
        self.transport.close()

    def __repr__(self) -> str:
        return f"HotmartClient(client_id={self._client_id!r}, token_url={self._token_url!r})"

    # ---------------------------------------------------------------------------- auth

    def _fetch_token(self) -> tuple[str, datetime]:
        response = self.transport.request(
            "POST",
            self._token_url,
            params={"grant_type": "client_credentials", "client_id": self._client_id},
            data={"client_secret": self._client_secret},
            auth=self._basic,
        )
        token = decode_as(response, _TOKEN, provider=PROVIDER)
        if token.token_type is not None and token.token_type.lower() != "bearer":
            raise shape_error(
                response, f"a {token.token_type!r} token where a bearer token was documented", provider=PROVIDER
            )
        return token.access_token, datetime.now(UTC) + timedelta(seconds=token.expires_in)

    # ------------------------------------------------------------------------ listings

    def window(self, endpoint: _Endpoint, window: tuple[int, int], status: str) -> Iterator[list[Listed]]:
        """Pages of `endpoint` for the sales of one status ordered in the window (inclusive ms)."""
        start_date, end_date = window
        params = {"start_date": start_date, "end_date": end_date, "transaction_status": status}
        what = f"{endpoint.what} of status {status} ordered {start_date}..{end_date} (ms)"
        check = _status_check(status) if endpoint is SALES else None
        return self._pages(endpoint, params, what, check)

    def by_transaction(self, endpoint: _Endpoint, transaction: str) -> Listed | None:
        """The one item of `endpoint` for a sale, or None when Hotmart lists none for it.

        Filtering by `transaction` lifts the default APPROVED/COMPLETE filter (Hotmart: "without
        the transaction or transaction_status filters, only APPROVED and COMPLETE are returned").
        """
        what = f"{endpoint.what} of transaction {transaction}"
        found = [item for page in self._pages(endpoint, {"transaction": transaction}, what, None) for item in page]
        strangers = [item.transaction for item in found if item.transaction != transaction]
        if strangers or len(found) > 1:
            raise IncompleteExtractionError(
                f"{PROVIDER}: {what}: asked for one sale, got {len(found)} items"
                + (f" of transactions {sorted(set(strangers))}" if strangers else "")
            )
        return found[0] if found else None

    def _pages(self, endpoint: _Endpoint, params: Mapping[str, Any], what: str, check: Any) -> Iterator[list[Listed]]:
        """Follow `page_token` until a page has no `next_page_token`; check the pages add up.

        An empty page that names a next page, a cursor that comes back, a stated total that
        changes between pages or more items than it states are all missed or doubled records:
        IncompleteExtractionError, and nothing of the interval lands.
        """
        token: str | None = None
        seen: set[str] = set()
        fetched = 0
        total: int | None = None
        pages = 0
        while True:
            query = {**params, "max_results": self.page_size, **({"page_token": token} if token else {})}
            response = self.transport.request("GET", endpoint.path, params=query, auth=self.auth)
            typed = decode_as(response, endpoint.decoder, provider=PROVIDER)
            raw = decode_as(response, _RAW_PAGE, provider=PROVIDER).items
            pages += 1
            stated = typed.page_info.total_results
            if total is None:
                total = stated
            elif stated != total:
                raise IncompleteExtractionError(
                    f"{PROVIDER}: {what}: page {pages} states a total of {stated}, the first page stated {total}: "
                    "the data moved while we paged"
                )
            if check is not None:
                check(response, typed.items)
            fetched += len(typed.items)
            if fetched > total:
                raise IncompleteExtractionError(
                    f"{PROVIDER}: {what}: {fetched} items after {pages} pages, more than the stated total of {total}"
                )
            yield [Listed(_transaction_of(item), item, record) for item, record in zip(typed.items, raw, strict=True)]
            token = typed.page_info.next_page_token or None
            if token is None:
                break
            if not typed.items:
                raise IncompleteExtractionError(f"{PROVIDER}: {what}: page {pages} is empty but names a next page")
            if token in seen:
                raise IncompleteExtractionError(f"{PROVIDER}: {what}: the page token {token[:40]!r} came back twice")
            seen.add(token)
        if fetched != total:
            raise IncompleteExtractionError(
                f"{PROVIDER}: {what}: fetched {fetched} items in {pages} pages, but Hotmart stated a total of {total}"
            )

    # ---------------------------------------------------------------------- error answers

    def _classify_refusal(self, response: httpx.Response) -> ProviderError | None:
        """What a refusal from Hotmart means, before the transport's generic rules (module docstring)."""
        status = response.status_code
        if status < 400 or status == 429 or status >= 500:
            return None
        request = response.request
        error = _error_of(response)
        reason = _reason(error, response)
        if request.method == "POST" and request.url.path.endswith(TOKEN_PATH):
            if status in (400, 401, 403):
                return AuthenticationError(
                    f"{PROVIDER} refused the credentials ({status}) at its token endpoint: {reason}",
                    status=status,
                    body=response.text,
                )
            return None
        path = request.url.path.removeprefix(self._base_path) or "/"
        where = f"{request.method} {path}"
        if status == 401:
            return None  # one fresh token, then AuthenticationError (the transport's rule)
        if status == 403:
            if error is None:
                return None
            return NotLinkedError(
                f"{PROVIDER}: the credentials were accepted but may not read this account's sales ({where} answered "
                f"403 {reason}): check that the credential belongs to the producer's account and has API access",
                status=403,
                body=response.text,
            )
        if status == 404 and error is None:
            return shape_error(
                response, "a body that is not Hotmart's error envelope, so not its documented 404", provider=PROVIDER
            )
        return RequestRejectedError(
            f"{PROVIDER}: {where} answered {status}: {reason}", status=status, body=response.text
        )


def _transaction_of(item: shapes.SaleItem | shapes.CommissionsItem | shapes.PriceDetailsItem) -> str:
    return item.purchase.transaction if isinstance(item, shapes.SaleItem) else item.transaction


def _status_check(status: str) -> Any:
    """A page of a listing filtered by `status` must hold sales of that status only: anything else
    means the filter was not applied (Hotmart's default filter, or a changed API), and sales of
    the other statuses would be silently missing or landed twice."""

    def check(response: httpx.Response, items: list[shapes.SaleItem]) -> None:
        wrong = sorted({item.purchase.status for item in items if item.purchase.status != status})
        if wrong:
            raise shape_error(
                response,
                f"sales of status {', '.join(wrong)} in a listing filtered by transaction_status={status}",
                provider=PROVIDER,
            )

    return check


def _error_of(response: httpx.Response) -> shapes.ErrorBody | None:
    """Hotmart's error body, or None when the body is not one (an HTML page, an empty body)."""
    if "json" not in response.headers.get("content-type", "").lower():
        return None
    try:
        return _ERROR.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _reason(error: shapes.ErrorBody | None, response: httpx.Response) -> str:
    if error is not None:
        return error.error + (f": {error.error_description}" if error.error_description else "")
    text = response.text.strip().replace("\n", " ")
    return (text[:200] + ("…" if len(text) > 200 else "")) if text else "no body"
