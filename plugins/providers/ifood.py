"""iFood Merchant API, Financial module v3.0: sales and financial events per merchant.

Auth is OAuth2 client credentials (form-encoded, camelCase fields) giving a bearer token
that we cache until `expiresIn` says otherwise and renew on 401. iFood has no financial
webhooks, so this scheduled extraction is the only way its money reaches the warehouse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from plugins.providers.base import Interval, Provider, RawRecord
from plugins.providers.transport import CachedToken, Transport, iter_numbered_pages

SALES_MAX_WINDOW_DAYS = 90
EVENTS_MAX_WINDOW_DAYS = 31


class IfoodClient:
    DEFAULT_BASE_URL = "https://merchant-api.ifood.com.br"

    def __init__(
        self, client_id: str, client_secret: str, *, base_url: str | None = None, **transport_options: Any
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self.transport = Transport(base_url or self.DEFAULT_BASE_URL, provider="ifood", **transport_options)
        self.auth = CachedToken(self._fetch_token, lambda token: {"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self.transport.close()

    def _fetch_token(self) -> tuple[str, datetime]:
        response = self.transport.request(
            "POST",
            "/authentication/v1.0/oauth/token",
            data={"grantType": "client_credentials", "clientId": self._client_id, "clientSecret": self._client_secret},
        )
        body = response.json()
        expires_in = int(body.get("expiresIn", 3600))
        return body["accessToken"], datetime.now(UTC) + timedelta(seconds=expires_in)

    def sales(self, merchant_id: str, begin: date, end: date) -> Iterator[dict[str, Any]]:
        """Every sale whose date is in [begin, end], in windows the API accepts."""
        for window_begin, window_end in _windows(begin, end, SALES_MAX_WINDOW_DAYS):

            def fetch(page: int, b: date = window_begin, e: date = window_end) -> tuple[list[dict[str, Any]], bool]:
                body = _unwrap(
                    self.transport.get_json(
                        f"/financial/v3.0/merchants/{merchant_id}/sales",
                        params={"beginSalesDate": b.isoformat(), "endSalesDate": e.isoformat(), "page": page},
                        auth=self.auth,
                    )
                )
                return body.get("sales") or [], page < int(body.get("pageCount") or 0)

            for page in iter_numbered_pages(fetch):
                yield from page

    def financial_events(
        self, merchant_id: str, begin: date, end: date, *, size: int = 500
    ) -> Iterator[dict[str, Any]]:
        for window_begin, window_end in _windows(begin, end, EVENTS_MAX_WINDOW_DAYS):

            def fetch(page: int, b: date = window_begin, e: date = window_end) -> tuple[list[dict[str, Any]], bool]:
                body = _unwrap(
                    self.transport.get_json(
                        f"/financial/v3.0/merchants/{merchant_id}/financial-events",
                        params={"beginDate": b.isoformat(), "endDate": e.isoformat(), "page": page, "size": size},
                        auth=self.auth,
                    )
                )
                return body.get("financialEvents") or [], bool(body.get("hasNextPage"))

            for page in iter_numbered_pages(fetch):
                yield from page


class IfoodProvider(Provider):
    name = "ifood"
    default_base_url = IfoodClient.DEFAULT_BASE_URL
    credential_fields = ("client_id", "client_secret")
    external_id_fields = ("merchant_ids",)
    raw_tables = ("ifood_sales", "ifood_financial_events")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = IfoodClient(
            self.credentials["client_id"], self.credentials["client_secret"], base_url=self.base_url
        )

    def close(self) -> None:
        self.client.close()

    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        for merchant_id in self.external_ids.get("merchant_ids", []):
            keys = {"merchant_id": merchant_id}
            for sale in self.client.sales(merchant_id, interval.first_date, interval.last_date):
                yield RawRecord("ifood_sales", str(sale["id"]), sale, keys)
            for event in self.client.financial_events(merchant_id, interval.first_date, interval.last_date):
                yield RawRecord("ifood_financial_events", financial_event_id(merchant_id, event), event, keys)


def financial_event_id(merchant_id: str, event: dict[str, Any]) -> str:
    """A stable id for a ledger entry; the API gives none.

    Built from the fields that identify an entry (what, for which reference, when, how much)
    so re-extracting the same entry maps to the same id, while a genuinely new entry for the
    same order (an adjustment, a cancellation) gets its own.
    """
    reference = event.get("reference") or {}
    amount = (event.get("amount") or {}).get("value")
    parts = [
        merchant_id,
        str(event.get("name")),
        str(event.get("description")),
        str(event.get("trigger")),
        str(event.get("dateTime")),
        str(reference.get("type")),
        str(reference.get("id")),
        str(amount),
        str((event.get("period") or {}).get("beginDate")),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _unwrap(body: Any) -> dict[str, Any]:
    """The official reference wraps some envelopes in a one-element array; the guide does not."""
    if isinstance(body, list):
        return body[0] if body else {}
    return body


def _windows(begin: date, end: date, max_days: int) -> Iterator[tuple[date, date]]:
    current = begin
    while current <= end:
        window_end = min(end, current + timedelta(days=max_days - 1))
        yield current, window_end
        current = window_end + timedelta(days=1)
