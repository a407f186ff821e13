"""The HTTP client of Stripe's v1 API: cursor-paged lists, every answer checked against its shape.

Auth is the account's secret (`sk_…`) or restricted (`rk_…`) key as `Authorization: Bearer`, with
`Stripe-Version` pinned to the version the official library we test against pins, so the shapes we
read do not move with the account's default API version. There is no token to fetch or renew.

Lists (`GET /v1/charges`, `/v1/refunds`, `/v1/disputes`, `/v1/payouts`, `/v1/balance_transactions`)
are filtered by `created[gte]` / `created[lt]` (Unix seconds) and paged with `limit=100` and
`starting_after=<id of the last record>` until a page says `has_more: false`, as stripe-python's
`ListObject.auto_paging_iter` does. Stripe states no totals on lists, so what a page can be held to
is its own contents: a page with `has_more` but no records, a page larger than the limit, a record
served twice, or a record outside the requested `created` window means the listing cannot be
trusted. A payout's transactions (`GET /v1/balance_transactions?payout=po_…`, automatic payouts
only) do have a stated total: the payout's `amount`, which their nets must add up to.

Error answers carry Stripe's envelope `{"error": {type, code, message, param}}` and a `Request-Id`
header; `_classify` reads them before the transport's generic rules (see its docstring).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import msgspec

from plugins.providers.base import Interval
from plugins.providers.errors import (
    AuthenticationError,
    IncompleteExtractionError,
    NotLinkedError,
    ProviderError,
    RateLimitedError,
    RequestRejectedError,
)
from plugins.providers.stripe import shapes
from plugins.providers.transport import Transport, TransportOptions, decode_as, iter_cursor_pages, shape_error

T = TypeVar("T", bound=msgspec.Struct)

# The API version stripe-python 16.1.0 sends (`stripe/_api_version.py`, `_ApiVersion.CURRENT`).
STRIPE_VERSION = "2026-10-28.endive"
PAGE_LIMIT = 100  # Stripe's maximum (`limit` 1..100, default 10)
# A payout whose transactions must add up to its amount; a failed or canceled payout returned
# its funds to the balance, and what its listing then holds is not documented.
SETTLING_PAYOUT_STATUSES = frozenset({"paid", "in_transit", "pending"})

_RAW_PAGE = msgspec.json.Decoder(shapes.RawPage)
_ERROR = msgspec.json.Decoder(shapes.ErrorBody)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEY = re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9*_]+")
# Stripe's words for a key that works but cannot reach the account asked for (Connect, OAuth).
_ACCOUNT_UNREACHABLE = re.compile(r"does not have access to account|account.*(?:revoked|does not exist)", re.I)


def created_bounds(interval: Interval) -> tuple[int, int]:
    """`created[gte]` and `created[lt]` for the interval: Unix seconds of [start, end).

    Stripe's `created` is whole seconds, so a bound with a fraction of a second is rounded up:
    a record created at second s is in [start, end) exactly when ceil(start) <= s < ceil(end).
    """
    return _ceil_seconds(interval.start), _ceil_seconds(interval.end)


def _ceil_seconds(moment: datetime) -> int:
    delta = moment - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    return seconds + 1 if delta.microseconds else seconds


class StaticKey:
    """The secret key on every request; nothing to renew (Stripe keys do not expire by themselves)."""

    def __init__(self, secret_key: str) -> None:
        self._headers = {"Authorization": f"Bearer {secret_key}", "Stripe-Version": STRIPE_VERSION}

    def headers(self) -> dict[str, str]:
        return self._headers

    def invalidate(self) -> None:
        """A refused key stays refused; `_classify` reports it before the transport would retry."""

    def __repr__(self) -> str:
        return "StaticKey(<redacted>)"


class StripeClient:
    """Typed access to the Stripe lists we extract; records come back with their exact bytes."""

    DEFAULT_BASE_URL = "https://api.stripe.com"

    def __init__(
        self,
        secret_key: str,
        *,
        base_url: str | None = None,
        options: TransportOptions | None = None,
        **overrides: Any,
    ) -> None:
        self._base_path = httpx.URL(base_url or self.DEFAULT_BASE_URL).path.rstrip("/")
        self.transport = Transport(
            base_url or self.DEFAULT_BASE_URL,
            provider="stripe",
            options=(options or TransportOptions()).with_overrides(**overrides),
            classify=self._classify,
        )
        self.auth = StaticKey(secret_key)

    def close(self) -> None:
        self.transport.close()

    # ------------------------------------------------------------------------- lists

    def charges(self, interval: Interval) -> Iterator[tuple[shapes.Charge, msgspec.Raw]]:
        return self._created_in("/v1/charges", shapes.Charge, interval, "charges")

    def refunds(self, interval: Interval) -> Iterator[tuple[shapes.Refund, msgspec.Raw]]:
        return self._created_in("/v1/refunds", shapes.Refund, interval, "refunds")

    def disputes(self, interval: Interval) -> Iterator[tuple[shapes.Dispute, msgspec.Raw]]:
        return self._created_in("/v1/disputes", shapes.Dispute, interval, "disputes")

    def payouts(self, interval: Interval) -> Iterator[tuple[shapes.Payout, msgspec.Raw]]:
        return self._created_in("/v1/payouts", shapes.Payout, interval, "payouts")

    def balance_transactions(self, interval: Interval) -> Iterator[tuple[shapes.BalanceTransaction, msgspec.Raw]]:
        return self._created_in("/v1/balance_transactions", shapes.BalanceTransaction, interval, "balance transactions")

    def payout_transactions(self, payout: shapes.Payout) -> list[tuple[shapes.BalanceTransaction, msgspec.Raw]]:
        """Every balance transaction an automatic payout paid out, checked against the payout's amount.

        Stripe filters by payout for automatic payouts only (a manual payout answers 400), so a
        manual payout is a ValueError here. The nets of the payout's transactions, leaving out the
        payout's own (`payout.balance_transaction`, listed or not), must add up to its `amount`
        (for a paid, in-transit or pending payout); otherwise the listing is incomplete.
        """
        if not payout.automatic:
            raise ValueError(
                f"payout {payout.id} is manual: Stripe lists transactions by payout for automatic ones only"
            )
        what = f"balance transactions of payout {payout.id}"
        items = [
            item
            for page in self._pages("/v1/balance_transactions", shapes.BalanceTransaction, {"payout": payout.id}, what)
            for item in page
        ]
        if payout.status in SETTLING_PAYOUT_STATUSES:
            own = payout.balance_transaction
            settled = [t for t, _ in items if t.id != own and not (own is None and t.type == "payout")]
            total = sum(t.net for t in settled)
            if total != payout.amount:
                raise IncompleteExtractionError(
                    f"stripe: {what}: the nets of its {len(settled)} transactions add up to {total}, but the payout "
                    f"states an amount of {payout.amount} ({payout.currency}, status {payout.status})"
                )
        return items

    def _created_in(self, path: str, shape: type[T], interval: Interval, what: str) -> Iterator[tuple[T, msgspec.Raw]]:
        gte, lt = created_bounds(interval)
        params = {"created[gte]": gte, "created[lt]": lt}
        for page in self._pages(path, shape, params, f"{what} created in [{gte}, {lt})", window=(gte, lt)):
            yield from page

    def _pages(
        self,
        path: str,
        shape: type[T],
        params: dict[str, Any],
        what: str,
        *,
        window: tuple[int, int] | None = None,
    ) -> Iterator[list[tuple[T, msgspec.Raw]]]:
        """Pages of (typed record, its exact bytes) until a page says `has_more: false`."""
        decoder = msgspec.json.Decoder(shapes.Page[shape])  # type: ignore[valid-type]
        seen: set[str] = set()

        def fetch(cursor: str | None) -> tuple[list[tuple[T, msgspec.Raw]], str | None]:
            query = {**params, "limit": PAGE_LIMIT}
            if cursor is not None:
                query["starting_after"] = cursor
            response = self.transport.request("GET", path, params=query, auth=self.auth)
            page = decode_as(response, decoder, provider="stripe")
            raw = decode_as(response, _RAW_PAGE, provider="stripe")
            if len(page.data) > PAGE_LIMIT:
                raise shape_error(
                    response, f"a page of {len(page.data)} records, more than the limit {PAGE_LIMIT}", provider="stripe"
                )
            for index, record in enumerate(page.data):
                ident = record.id  # type: ignore[attr-defined]
                if window is not None and not window[0] <= record.created < window[1]:  # type: ignore[attr-defined]
                    raise shape_error(
                        response,
                        f"data[{index}], id {ident!r}, created at {record.created}, outside the requested "  # type: ignore[attr-defined]
                        f"created[gte]={window[0]} created[lt]={window[1]}",
                        provider="stripe",
                    )
                if ident in seen:
                    raise IncompleteExtractionError(
                        f"stripe: {what}: {ident!r} was served twice while paging; the list moved under the cursor"
                    )
                seen.add(ident)
            if page.has_more and not page.data:
                raise IncompleteExtractionError(f"stripe: {what}: a page says `has_more` but holds no records")
            next_cursor = page.data[-1].id if page.has_more else None  # type: ignore[attr-defined]
            return list(zip(page.data, raw.data, strict=True)), next_cursor

        return iter_cursor_pages(fetch, provider="stripe", what=what)

    # ------------------------------------------------------------------------ errors

    def _classify(self, response: httpx.Response) -> ProviderError | None:
        """What a Stripe error answer means, before the transport's generic rules apply.

        Left to the transport (retried, Retry-After honoured): 409, 429 and 5xx. Otherwise, by
        status and Stripe's envelope (stripe-python `_api_requestor.specific_v1_api_error`):

        - 401: the key is wrong, revoked or expired: AuthenticationError, never retried;
        - 403 naming an account the key cannot reach (`account_invalid`, "does not have access to
          account"): NotLinkedError; any other 403 with the envelope (a restricted key without
          read permission on the endpoint): AuthenticationError, since the key must be changed;
        - 404 `resource_missing` (e.g. `payout=po_…` that this key cannot see, as a test-mode id
          with a live key): NotLinkedError naming it; any other 404 with the envelope (an unknown
          URL): RequestRejectedError; a 404 without it (a proxy's HTML page) is not Stripe's
          answer: ResponseShapeError;
        - 400 `rate_limit` (Stripe's older way to say 429): RateLimitedError;
        - any other 4xx with the envelope: RequestRejectedError.

        Messages carry Stripe's type, code, message, param and `Request-Id`, with anything shaped
        like an API key masked (Stripe masks keys in its messages already).
        """
        status = response.status_code
        if status in (409, 429) or status >= 500:
            return None
        error = _error_of(response)
        where = f"{response.request.method} {response.request.url.path.removeprefix(self._base_path) or '/'}"
        said = _describe(error, response)
        body = _redact(response.text[:2000])
        if status == 401:
            return AuthenticationError(
                f"stripe refused the credentials (401) on {where}: {said}", status=status, body=body
            )
        if error is None:
            if status == 404:
                return shape_error(
                    response, "a body that is not Stripe's error envelope, so not its documented 404", provider="stripe"
                )
            return None
        code = error.code if isinstance(error, shapes.ErrorDetail) else error
        message = (error.message if isinstance(error, shapes.ErrorDetail) else None) or ""
        if status == 403:
            if code == "account_invalid" or _ACCOUNT_UNREACHABLE.search(message):
                return NotLinkedError(
                    f"stripe: the account is not reachable with these credentials ({where} answered 403: {said})",
                    status=status,
                    body=body,
                )
            return AuthenticationError(
                f"stripe refused the credentials (403) on {where}: the key may not read this endpoint ({said})",
                status=status,
                body=body,
            )
        if status == 404 and code == "resource_missing":
            param = error.param if isinstance(error, shapes.ErrorDetail) else None
            value = response.request.url.params.get(param) if param else None
            named = f"{param} {value}" if param and value else (param or "the object asked for")
            return NotLinkedError(
                f"stripe: {named} is not reachable with these credentials ({where} answered 404: {said})",
                status=status,
                body=body,
            )
        if status == 400 and code == "rate_limit":
            return RateLimitedError(f"stripe: {where} answered 400 rate_limit: {said}", status=status, body=body)
        if 400 <= status < 500:
            return RequestRejectedError(f"stripe: {where} answered {status}: {said}", status=status, body=body)
        return None


def _error_of(response: httpx.Response) -> shapes.ErrorDetail | str | None:
    """Stripe's `error` (an object, or a string for OAuth errors); None for any other body."""
    if "json" not in response.headers.get("content-type", "").lower():
        return None
    try:
        return _ERROR.decode(response.content).error
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _describe(error: shapes.ErrorDetail | str | None, response: httpx.Response) -> str:
    """`type/code: message (param p; request req_…)`, keys masked; a short snippet for other bodies."""
    if isinstance(error, shapes.ErrorDetail):
        kind = "/".join(part for part in (error.type, error.code) if part)
        text = f"{kind}: {error.message}" if error.message else kind
        details = [f"param {error.param}"] if error.param else []
    elif isinstance(error, str):
        text, details = error, []
    else:
        content_type = response.headers.get("content-type", "no content type").split(";")[0].strip()
        snippet = response.text.strip().replace("\n", " ")[:200]
        text, details = f"a {content_type} body ({snippet!r})" if snippet else "an empty body", []
    request_id = response.headers.get("request-id")
    if request_id:
        details.append(f"request {request_id}")
    return _redact(text + (f" ({'; '.join(details)})" if details else ""))


def _redact(text: str) -> str:
    """Mask anything shaped like a Stripe key: keep its prefix, drop the rest."""
    return _KEY.sub(lambda m: m.group(0)[: m.group(0).index("_", 3) + 1] + "…", text)
