"""The HTTP client of Asaas's API v3: payments, the statement (extrato), transfers, the account.

Auth is the account's API key in the `access_token` header on every call (no token exchange;
`User-Agent`, mandatory for accounts created from 2024-06-13, is the transport's own). Listings
are `offset`/`limit` pages (`limit` at most 100) in the envelope
`{object: "list", hasMore, totalCount, limit, offset, data}`: paging ends only on
`hasMore: false`, each page must say it starts at the offset asked for, `totalCount` must not
change between pages, no record may come twice, and the records fetched must add up to
`totalCount` (IncompleteExtractionError otherwise). Filters are business dates (`YYYY-MM-DD`,
inclusive at both ends), and every record must fall inside the dates asked for, so a filter the
server ignored fails instead of landing someone else's days.

Asaas's answers to refusals (docs.asaas.com "HTTP response codes"): 401 = no or invalid API key
(AuthenticationError at once: a static key does not refresh); 403 = a request Asaas refuses
(API abuse, forbidden parameters, a body on a GET, an IP outside the allowlist):
RequestRejectedError; 404 with Asaas's error envelope on an object path = that object is not
reachable with this key (NotLinkedError naming it); 429 is retried by the transport, which
honours `Retry-After` or Asaas's `RateLimit-Reset`, then RateLimitedError; other 4xx are the
transport's RequestRejectedError. Messages carry Asaas's error descriptions, never the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from plugins.providers.asaas import shapes
from plugins.providers.errors import (
    AuthenticationError,
    IncompleteExtractionError,
    NotLinkedError,
    ProviderError,
    RequestRejectedError,
)
from plugins.providers.transport import Transport, TransportOptions, decode_as, shape_error

PROVIDER = "asaas"
PAGE_LIMIT = 100  # Asaas's maximum `limit`
R = TypeVar("R")

_PAYMENTS = msgspec.json.Decoder(shapes.PaymentsPage)
_STATEMENT = msgspec.json.Decoder(shapes.FinancialTransactionsPage)
_TRANSFERS = msgspec.json.Decoder(shapes.TransfersPage)
_RAW_PAGE = msgspec.json.Decoder(shapes.RawPage)
_PAYMENT = msgspec.json.Decoder(shapes.Payment)
_TRANSFER = msgspec.json.Decoder(shapes.Transfer)
_COMMERCIAL_INFO = msgspec.json.Decoder(shapes.CommercialInfo)
_ERROR = msgspec.json.Decoder(shapes.ErrorBody)
_OBJECT_PATH = re.compile(r"/v3/(payments|transfers)/([^/?]+)$")
_ACCOUNT_PATH = re.compile(r"/v3/myAccount/")
_KINDS = {"payments": "payment", "transfers": "transfer"}


class ApiKey:
    """The account's API key as a `TokenSource`: one static header, nothing to renew.

    `repr` and `str` never show the key, so it cannot reach a log line or a traceback by accident.
    """

    def __init__(self, key: str) -> None:
        if not key or not key.strip():
            raise ValueError("an Asaas API key is required")
        self._key = key

    def headers(self) -> Mapping[str, str]:
        return {"access_token": self._key}

    def invalidate(self) -> None:
        """Nothing to refresh: a refused key stays refused."""

    @property
    def environment(self) -> str | None:
        """`prod` or `hmlg` (sandbox) as the key's prefix says (`$aact_prod_…`, `$aact_hmlg_…`), if it says."""
        match = re.match(r"^\$aact_(prod|hmlg)_", self._key)
        return match.group(1) if match else None

    def __repr__(self) -> str:
        return "ApiKey(<redacted>)"

    __str__ = __repr__


class AsaasClient:
    """Typed access to the Asaas endpoints we read: every answer is checked against its shape.

    Listing methods yield (typed record, the record's exact bytes) pairs: the typed record is
    what the provider reads (ids, dates), the bytes are what lands in raw.
    """

    DEFAULT_BASE_URL = "https://api.asaas.com"
    SANDBOX_BASE_URL = "https://api-sandbox.asaas.com"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        options: TransportOptions | None = None,
        **overrides: Any,
    ) -> None:
        self.auth = ApiKey(api_key)
        self.base_url = base_url or self.DEFAULT_BASE_URL
        self._base_path = httpx.URL(self.base_url).path.rstrip("/")
        self.transport = Transport(
            self.base_url,
            provider=PROVIDER,
            options=(options or TransportOptions()).with_overrides(**overrides),
            classify=self._classify_refusal,
        )

    def close(self) -> None:
        self.transport.close()

    # ---------------------------------------------------------------------------- account

    def account_document(self) -> str:
        """The CPF/CNPJ (digits only) of the account the API key belongs to."""
        response = self.transport.request("GET", "/v3/myAccount/commercialInfo/", auth=self.auth)
        return digits(decode_as(response, _COMMERCIAL_INFO, provider=PROVIDER).cpfCnpj)

    # ---------------------------------------------------------------------------- listings

    def payments(self, first: date, last: date) -> Iterator[tuple[shapes.Payment, msgspec.Raw]]:
        """Every payment created on the business dates first..last (`dateCreated[ge]`/`[le]`)."""
        return self._listing(
            "/v3/payments",
            {"dateCreated[ge]": first.isoformat(), "dateCreated[le]": last.isoformat()},
            _PAYMENTS,
            what=f"payments created {first}..{last}",
            dated=lambda p: shapes.to_date(p.dateCreated),
            bounds=(first, last),
        )

    def financial_transactions(
        self, first: date, last: date
    ) -> Iterator[tuple[shapes.FinancialTransaction, msgspec.Raw]]:
        """Every statement line dated first..last (`startDate`/`finishDate`), oldest first."""
        return self._listing(
            "/v3/financialTransactions",
            {"startDate": first.isoformat(), "finishDate": last.isoformat(), "order": "asc"},
            _STATEMENT,
            what=f"statement {first}..{last}",
            dated=lambda t: t.date,
            bounds=(first, last),
        )

    def transfers(self, first: date, last: date) -> Iterator[tuple[shapes.Transfer, msgspec.Raw]]:
        """Every transfer requested on the dates first..last (`dateCreated[ge]`/`[le]`)."""
        return self._listing(
            "/v3/transfers",
            {"dateCreated[ge]": first.isoformat(), "dateCreated[le]": last.isoformat()},
            _TRANSFERS,
            what=f"transfers created {first}..{last}",
            dated=lambda t: shapes.to_date(t.dateCreated),
            bounds=(first, last),
        )

    def _listing(
        self,
        path: str,
        filters: Mapping[str, str],
        decoder: msgspec.json.Decoder[Any],
        *,
        what: str,
        dated: Callable[[Any], date],
        bounds: tuple[date, date],
    ) -> Iterator[tuple[Any, msgspec.Raw]]:
        """Follow `offset` until a page says `hasMore: false`; then the records must add up to `totalCount`.

        The next offset is this one plus the records received, not plus the limit asked for, so a
        server that caps `limit` lower than asked makes more pages, never skipped records.
        """
        offset, fetched, stated = 0, 0, None
        seen: set[str] = set()
        while True:
            params = {**filters, "offset": offset, "limit": PAGE_LIMIT}
            response = self.transport.request("GET", path, params=params, auth=self.auth)
            page = decode_as(response, decoder, provider=PROVIDER)
            raw = decode_as(response, _RAW_PAGE, provider=PROVIDER).data
            if page.offset != offset:
                raise IncompleteExtractionError(
                    f"{PROVIDER}: {what}: asked for offset {offset}, the page says it starts at {page.offset}"
                )
            if stated is None:
                stated = page.totalCount
            elif page.totalCount != stated:
                raise IncompleteExtractionError(
                    f"{PROVIDER}: {what}: the page at offset {offset} states totalCount {page.totalCount}, the "
                    f"first page stated {stated}: the data moved while we paged"
                )
            for index, record in enumerate(page.data):
                day = dated(record)
                if not bounds[0] <= day <= bounds[1]:
                    raise shape_error(
                        response,
                        f"record data[{index}], id {record.id!r}, dated {day}, outside the {bounds[0]}..{bounds[1]} "
                        "filter asked for",
                        provider=PROVIDER,
                    )
                if record.id in seen:
                    raise IncompleteExtractionError(
                        f"{PROVIDER}: {what}: record {record.id!r} came twice (again at offset {offset + index}): "
                        "the data moved while we paged"
                    )
                seen.add(record.id)
            yield from zip(page.data, raw, strict=True)
            fetched += len(page.data)
            if not page.hasMore:
                break
            if not page.data:
                raise IncompleteExtractionError(
                    f"{PROVIDER}: {what}: the page at offset {offset} is empty but says more follow (hasMore)"
                )
            offset += len(page.data)
        if fetched != stated:
            raise IncompleteExtractionError(
                f"{PROVIDER}: {what}: fetched {fetched} records, but Asaas stated a totalCount of {stated}"
            )

    # ------------------------------------------------------------------------------ by id

    def payment(self, payment_id: str) -> tuple[shapes.Payment, bytes]:
        """One payment by id (one the statement names but the listing did not give)."""
        return self._one("payments", payment_id, _PAYMENT)

    def transfer(self, transfer_id: str) -> tuple[shapes.Transfer, bytes]:
        """One transfer by id."""
        return self._one("transfers", transfer_id, _TRANSFER)

    def _one(self, collection: str, object_id: str, decoder: msgspec.json.Decoder[R]) -> tuple[R, bytes]:
        response = self.transport.request("GET", f"/v3/{collection}/{quote(object_id, safe='')}", auth=self.auth)
        typed = decode_as(response, decoder, provider=PROVIDER)
        if typed.id != object_id:  # type: ignore[attr-defined]
            raise shape_error(
                response,
                f"{_KINDS[collection]} {typed.id!r} where {object_id!r} was asked for",  # type: ignore[attr-defined]
                provider=PROVIDER,
            )
        return typed, response.content

    # ------------------------------------------------------------------------ refusals

    def _classify_refusal(self, response: httpx.Response) -> ProviderError | None:
        """What a 401, 403 or 404 from Asaas means, before the transport's generic rules apply."""
        status = response.status_code
        if status not in (401, 403, 404):
            return None
        request = response.request
        path = request.url.path.removeprefix(self._base_path)
        where = f"{request.method} {path}"
        error = _error_of(response)
        reason = error or _snippet(response)
        if status == 401:
            return AuthenticationError(
                f"{PROVIDER} refused the credentials (401) on {where}: {reason}{self._environment_hint()}",
                status=401,
                body=response.text,
            )
        if status == 403:
            return RequestRejectedError(
                f"{PROVIDER}: {where} answered 403, a request Asaas refuses (its rules on API abuse and "
                f"forbidden parameters, a body on a GET, or an IP outside the account's allowlist): {reason}",
                status=403,
                body=response.text,
            )
        if error is None:
            return shape_error(
                response, "a body that is not Asaas's error envelope, so not its documented 404", provider=PROVIDER
            )
        found = _OBJECT_PATH.search(path)
        if found is not None:
            kind, object_id = _KINDS[found[1]], found[2]
            return NotLinkedError(
                f"{PROVIDER}: {kind} {object_id} is not reachable with these credentials ({where} answered 404: "
                f"{error})",
                status=404,
                body=response.text,
            )
        if _ACCOUNT_PATH.search(path):
            return NotLinkedError(
                f"{PROVIDER}: the account behind these credentials is not reachable ({where} answered 404: {error})",
                status=404,
                body=response.text,
            )
        return None

    def _environment_hint(self) -> str:
        """Name a key sent to the other environment's URL (the prefix is not secret; the key is)."""
        host = httpx.URL(self.base_url).host
        environment = self.auth.environment
        if environment == "hmlg" and host == httpx.URL(self.DEFAULT_BASE_URL).host:
            return " (the key is a sandbox key, $aact_hmlg_…, sent to the production URL)"
        if environment == "prod" and host == httpx.URL(self.SANDBOX_BASE_URL).host:
            return " (the key is a production key, $aact_prod_…, sent to the sandbox URL)"
        return ""


def digits(document: str) -> str:
    """A CPF/CNPJ without its punctuation (`12.345.678/0001-95` → `12345678000195`)."""
    return re.sub(r"\D", "", document)


def _error_of(response: httpx.Response) -> str | None:
    """Asaas's error envelope as `code: description; …`, or None when the body is not that envelope."""
    try:
        body = _ERROR.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    parts = [": ".join(p for p in (item.code, item.description) if p) for item in body.errors]
    return "; ".join(p for p in parts if p) or "an empty errors list"


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip().replace("\n", " ")
    if not text:
        return "an empty body"
    return text[:limit] + ("…" if len(text) > limit else "")
