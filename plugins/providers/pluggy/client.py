"""The HTTP client of Pluggy's API (Open Finance aggregator): items, accounts, transactions.

Auth is `POST /auth` → an API key (a JWT that lives two hours) sent as `X-API-KEY`; we reuse
it until its `exp` claim is near, as Pluggy asks, because `/auth` is itself rate limited.
Transactions come from the cursor-paged `GET /v2/transactions`; the numbered-page
`GET /transactions` is deprecated (until 2026-12-31) and is offered here only for comparison.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import msgspec

from plugins.providers.errors import NotLinkedError, ProviderError, ResponseShapeError
from plugins.providers.pluggy import shapes
from plugins.providers.transport import (
    CachedToken,
    NumberedPage,
    Transport,
    TransportOptions,
    decode_as,
    decode_json,
    decode_object,
    iter_cursor_pages,
    iter_numbered_pages,
    shape_error,
)

_API_KEY = msgspec.json.Decoder(shapes.ApiKey)
_ITEM = msgspec.json.Decoder(shapes.Item)
_ACCOUNTS = msgspec.json.Decoder(shapes.AccountsPage)
_CURSOR_PAGE = msgspec.json.Decoder(shapes.CursorPage)
_CURSOR_PAGE_RAW = msgspec.json.Decoder(shapes.CursorPageRaw)
_V1_PAGE = msgspec.json.Decoder(shapes.NumberedTransactions)
_ERROR = msgspec.json.Decoder(shapes.ErrorBody)
_ITEM_PATH = re.compile(r"^/items/([^/?]+)")


class PluggyClient:
    """Typed access to the Pluggy endpoints we use: every answer is checked against its shape."""

    DEFAULT_BASE_URL = "https://api.pluggy.ai"

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
        self._base_path = httpx.URL(base_url or self.DEFAULT_BASE_URL).path.rstrip("/")
        self.transport = Transport(
            base_url or self.DEFAULT_BASE_URL,
            provider="pluggy",
            options=(options or TransportOptions()).with_overrides(**overrides),
            classify=self._classify_refusal,
        )
        self.auth = CachedToken(self._fetch_api_key, lambda key: {"X-API-KEY": key})

    def close(self) -> None:
        self.transport.close()

    def _fetch_api_key(self) -> tuple[str, datetime]:
        response = self.transport.request(
            "POST", "/auth", json={"clientId": self._client_id, "clientSecret": self._client_secret}
        )
        api_key = decode_as(response, _API_KEY, provider="pluggy").apiKey
        return api_key, _jwt_expiry(api_key) or datetime.now(UTC) + timedelta(hours=2)

    def item(self, item_id: str) -> dict[str, Any]:
        """The item; NotLinkedError when Pluggy does not know it (deleted, or another client's)."""
        response = self.transport.request("GET", f"/items/{item_id}", auth=self.auth)
        item = decode_as(response, _ITEM, provider="pluggy")
        if item.id != item_id:
            raise shape_error(response, f"item {item.id!r} where item {item_id!r} was asked for", provider="pluggy")
        return decode_json(response, provider="pluggy")

    def accounts(self, item_id: str) -> list[dict[str, Any]]:
        """Every account of the item; the pages must add up to the `total` Pluggy states."""

        def fetch(page: int) -> NumberedPage:
            response = self.transport.request(
                "GET", "/accounts", params={"itemId": item_id, "page": page}, auth=self.auth
            )
            typed = decode_as(response, _ACCOUNTS, provider="pluggy")
            plain = decode_json(response, provider="pluggy")
            strangers = [a.id for a in typed.results if a.itemId != item_id]
            if strangers:
                raise shape_error(response, f"accounts {strangers} of another item than {item_id!r}", provider="pluggy")
            return NumberedPage(
                plain["results"], typed.page, typed.page < typed.totalPages, typed.total, typed.totalPages
            )

        pages = iter_numbered_pages(fetch, provider="pluggy", what=f"accounts of item {item_id}")
        return [account for page in pages for account in page]

    def transactions(self, account_id: str, date_from: date, date_to: date) -> Iterator[list[dict[str, Any]]]:
        """Pages of transactions posted between the two dates, both inclusive (v2, cursor-paged).

        Amounts come back as exact Decimals.
        """
        for page in self.transaction_pages(account_id, date_from, date_to):
            yield [decode_object(record) for _, record in page]

    def transaction_pages(
        self, account_id: str, date_from: date, date_to: date
    ) -> Iterator[list[tuple[str, msgspec.Raw]]]:
        """The same pages as (transaction id, the exact JSON bytes Pluggy sent) pairs.

        Bulk extraction never needs the fields in Python: passing the bytes through keeps
        amounts exactly as sent and skips a decode/encode round trip per record. Each page is
        still decoded once into the typed shape, so every record is validated (required fields,
        types, the account it belongs to) before anything of it is kept. The last page is the
        one whose `next` is null.
        """
        first = {"accountId": account_id, "dateFrom": date_from.isoformat(), "dateTo": date_to.isoformat()}

        def fetch(cursor: str | None) -> tuple[list[tuple[str, msgspec.Raw]], str | None]:
            params = dict(first) if cursor is None else {**first, **_query_params(cursor)}
            response = self.transport.request("GET", "/v2/transactions", params=params, auth=self.auth)
            typed = decode_as(response, _CURSOR_PAGE, provider="pluggy")
            raw = decode_as(response, _CURSOR_PAGE_RAW, provider="pluggy")
            _check_account(response, account_id, typed.results)
            return [(t.id, record) for t, record in zip(typed.results, raw.results, strict=True)], typed.next

        return iter_cursor_pages(fetch, provider="pluggy", what=f"v2 transactions of account {account_id}")

    def transactions_v1(
        self, account_id: str, date_from: date, date_to: date, *, page_size: int = 500
    ) -> Iterator[list[dict[str, Any]]]:
        """Deprecated numbered pages; kept so the two endpoints can be compared on one account.

        Pages run until `page` reaches `totalPages`; they must add up to `total`.
        """

        def fetch(page: int) -> NumberedPage:
            response = self.transport.request(
                "GET",
                "/transactions",
                params={
                    "accountId": account_id,
                    "from": date_from.isoformat(),
                    "to": date_to.isoformat(),
                    "pageSize": page_size,
                    "page": page,
                },
                auth=self.auth,
            )
            typed = decode_as(response, _V1_PAGE, provider="pluggy")
            _check_account(response, account_id, typed.results)
            records = decode_json(response, provider="pluggy")["results"]
            return NumberedPage(records, typed.page, typed.page < typed.totalPages, typed.total, typed.totalPages)

        return iter_numbered_pages(fetch, provider="pluggy", what=f"v1 transactions of account {account_id}")

    def _classify_refusal(self, response: httpx.Response) -> ProviderError | None:
        """What a 404 from Pluggy means, before the transport's generic rules apply.

        With Pluggy's error body (`{code, message, codeDescription}`), a 404 on an item, on the
        accounts of an item, or on the transactions of an account means that id is not reachable
        with these credentials (deleted, or another client's): NotLinkedError naming it. Any
        other 404 body (an HTML page from a proxy) is not Pluggy's answer: ResponseShapeError.
        403 (an invalid or expired API key) is left to the transport: one fresh key, then
        AuthenticationError.
        """
        if response.status_code != 404:
            return None
        try:
            error = _ERROR.decode(response.content)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return shape_error(
                response, "a body that is not Pluggy's error envelope, so not its documented 404", provider="pluggy"
            )
        path = response.request.url.path.removeprefix(self._base_path)
        params = response.request.url.params
        item = _ITEM_PATH.match(path)
        if item is not None or (path == "/accounts" and params.get("itemId")):
            what = f"item {item[1] if item else params['itemId']}"
        elif path in ("/v2/transactions", "/transactions") and params.get("accountId"):
            what = f"account {params['accountId']}"
        else:
            return None
        reason = f"{error.codeDescription}: {error.message}" if error.codeDescription else error.message
        return NotLinkedError(
            f"pluggy: {what} is not reachable with these credentials ({response.request.method} {path} "
            f"answered 404 {reason})",
            status=404,
            body=response.text,
        )


def _check_account(response: httpx.Response, account_id: str, transactions: list[shapes.Transaction]) -> None:
    """Every transaction on a page must belong to the account asked for (it lands under that key)."""
    strangers = [t.id for t in transactions if t.accountId != account_id]
    if strangers:
        raise shape_error(
            response,
            f"{len(strangers)} transactions of another account than {account_id!r} (first: {strangers[0]!r})",
            provider="pluggy",
        )


def _query_params(next_query: str) -> dict[str, str]:
    """Pluggy's `next` is a query string ("?accountId=…&after=…"); we resend all of it."""
    parsed = parse_qs(next_query.lstrip("?"), keep_blank_values=True)
    if "after" not in parsed:
        raise ResponseShapeError(
            f"pluggy: GET /v2/transactions answered a `next` without a cursor: {next_query[:80]!r}"
        )
    return {key: values[-1] for key, values in parsed.items()}


def _jwt_expiry(token: str) -> datetime | None:
    """Read the `exp` claim without verifying: we only need to know when to ask for a new key."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, ValueError, KeyError, TypeError):
        return None
