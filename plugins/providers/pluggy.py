"""Pluggy (Open Finance aggregator): bank accounts and their transactions.

Auth is `POST /auth` → an API key (a JWT that lives two hours) sent as `X-API-KEY`; we reuse
it until its `exp` claim is near, as Pluggy asks, because `/auth` is itself rate limited.
Transactions come from the cursor-paged `GET /v2/transactions`; the numbered-page
`GET /transactions` is deprecated (until 2026-12-31) and is offered here only for comparison.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import msgspec

from plugins.providers.base import Interval, Provider, RawRecord
from plugins.providers.errors import ProviderError
from plugins.providers.transport import (
    CachedToken,
    Transport,
    decode_as,
    decode_object,
    iter_cursor_pages,
    iter_numbered_pages,
    prefetched,
)


class _CursorPage(msgspec.Struct):
    results: list[msgspec.Raw]
    next: str | None = None


class _Identified(msgspec.Struct):
    id: str


_ID_DECODER = msgspec.json.Decoder(_Identified)


class PluggyClient:
    """Thin typed access to the Pluggy endpoints we use."""

    DEFAULT_BASE_URL = "https://api.pluggy.ai"

    def __init__(
        self, client_id: str, client_secret: str, *, base_url: str | None = None, **transport_options: Any
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self.transport = Transport(base_url or self.DEFAULT_BASE_URL, provider="pluggy", **transport_options)
        self.auth = CachedToken(self._fetch_api_key, lambda key: {"X-API-KEY": key})

    def close(self) -> None:
        self.transport.close()

    def _fetch_api_key(self) -> tuple[str, datetime]:
        response = self.transport.request(
            "POST", "/auth", json={"clientId": self._client_id, "clientSecret": self._client_secret}
        )
        api_key = response.json()["apiKey"]
        return api_key, _jwt_expiry(api_key) or datetime.now(UTC) + timedelta(hours=2)

    def item(self, item_id: str) -> dict[str, Any]:
        return self.transport.get_json(f"/items/{item_id}", auth=self.auth)

    def accounts(self, item_id: str) -> list[dict[str, Any]]:
        pages = iter_numbered_pages(
            lambda page: self._page(
                self.transport.get_json("/accounts", params={"itemId": item_id, "page": page}, auth=self.auth)
            )
        )
        return [account for page in pages for account in page]

    def transactions(self, account_id: str, date_from: date, date_to: date) -> Iterator[list[dict[str, Any]]]:
        """Pages of transactions posted between the two dates, both inclusive (v2, cursor-paged).

        Amounts come back as exact Decimals.
        """
        for page in self.transaction_pages(account_id, date_from, date_to):
            yield [decode_object(record) for record in page]

    def transaction_pages(self, account_id: str, date_from: date, date_to: date) -> Iterator[list[msgspec.Raw]]:
        """The same pages, each transaction left as the exact JSON bytes Pluggy sent.

        Bulk extraction never needs the fields in Python: passing the bytes through keeps
        amounts exactly as sent and skips a decode/encode round trip per record.
        """
        first = {"accountId": account_id, "dateFrom": date_from.isoformat(), "dateTo": date_to.isoformat()}

        def fetch(cursor: str | None) -> tuple[list[msgspec.Raw], str | None]:
            params = dict(first) if cursor is None else {**first, **_query_params(cursor)}
            response = self.transport.request("GET", "/v2/transactions", params=params, auth=self.auth)
            page = decode_as(response, _CursorPage)
            return page.results, page.next or None

        return iter_cursor_pages(fetch)

    def transactions_v1(
        self, account_id: str, date_from: date, date_to: date, *, page_size: int = 500
    ) -> Iterator[list[dict[str, Any]]]:
        """Deprecated numbered pages; kept so the two endpoints can be compared on one account."""

        def fetch(page: int) -> tuple[list[dict[str, Any]], bool]:
            body = self.transport.get_json(
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
            return body["results"], body["page"] < body["totalPages"]

        return iter_numbered_pages(fetch)

    @staticmethod
    def _page(body: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        return body["results"], body.get("page", 1) < body.get("totalPages", 1)


class PluggyProvider(Provider):
    """Extracts every account of the integration's items and the transactions in the interval."""

    name = "pluggy"
    default_base_url = PluggyClient.DEFAULT_BASE_URL
    credential_fields = ("client_id", "client_secret")
    external_id_fields = ("item_ids",)
    raw_tables = ("pluggy_accounts", "pluggy_transactions")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = PluggyClient(
            self.credentials["client_id"], self.credentials["client_secret"], base_url=self.base_url
        )

    def close(self) -> None:
        self.client.close()

    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        for item_id in self.external_ids.get("item_ids", []):
            for account in self.client.accounts(item_id):
                yield RawRecord("pluggy_accounts", str(account["id"]), account, {"item_id": item_id})
                account_id = str(account["id"])
                keys = {"account_id": account_id}
                pages = self.client.transaction_pages(account_id, interval.first_date, interval.last_date)
                for page in prefetched(pages, depth=64):
                    for raw in page:
                        yield RawRecord("pluggy_transactions", _ID_DECODER.decode(raw).id, raw, keys)


def _query_params(next_query: str) -> dict[str, str]:
    """Pluggy's `next` is a query string ("?accountId=…&after=…"); we resend all of it."""
    parsed = parse_qs(next_query.lstrip("?"), keep_blank_values=True)
    if "after" not in parsed:
        raise ProviderError(f"pluggy: unexpected `next` value {next_query[:80]!r}")
    return {key: values[-1] for key, values in parsed.items()}


def _jwt_expiry(token: str) -> datetime | None:
    """Read the `exp` claim without verifying: we only need to know when to ask for a new key."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, ValueError, KeyError, TypeError):
        return None
