"""iFood Merchant API, Financial module v3.0: sales, financial events, settlements,
anticipations and the on-demand reconciliation report per merchant.

Auth is OAuth2 client credentials (form-encoded, camelCase fields) giving a bearer token
that we cache until `expiresIn` says otherwise and renew on 401. iFood has no financial
webhooks, so this scheduled extraction is the only way its money reaches the warehouse.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from plugins.providers.base import Interval, Provider, RawRecord
from plugins.providers.errors import ProviderError
from plugins.providers.transport import (
    RETRYABLE_STATUSES,
    CachedToken,
    Transport,
    decode_json,
    iter_numbered_pages,
)

SALES_MAX_WINDOW_DAYS = 90
EVENTS_MAX_WINDOW_DAYS = 31
SETTLEMENTS_MAX_WINDOW_DAYS = 31
ANTICIPATIONS_MAX_WINDOW_DAYS = 31

# The on-demand POST answers 409 (or 400 with code "409") when a recent request for the same
# competence exists; that answer carries the request id we need, so it must not be retried.
_ON_DEMAND_RETRY_STATUSES = RETRYABLE_STATUSES - {409, 425}
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_EXISTING_REQUEST = re.compile(rf"request\s*id\W*({_UUID})", re.IGNORECASE)

# Reconciliation CSV columns that hold amounts (or rates); parsed into Decimal when numeric.
RECONCILIATION_NUMERIC_COLUMNS = frozenset(
    {"valor", "base_calculo", "percentual_taxa", "valor_transacao", "valor_cesta_inicial", "valor_cesta_final"}
)
# The columns that identify a reconciliation line (see reconciliation_line_id).
RECONCILIATION_LINE_ID_COLUMNS = (
    "competencia",
    "loja_id",
    "id_saldo",
    "pedido_associado_ifood",
    "fato_gerador",
    "tipo_lancamento",
    "descricao_lancamento",
    "valor",
    "data_fato_gerador",
    "parcela_pagamento",
)
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)*)$")


class ReconciliationReportError(ProviderError):
    """iFood reported that it could not generate a reconciliation file (status `error`)."""

    def __init__(self, message: str, *, report_message: str, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.report_message = report_message


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

    def settlements(self, merchant_id: str, begin: date, end: date) -> Iterator[dict[str, Any]]:
        """The settlements envelope of every payment-date window (≤ 31 days) in [begin, end].

        Not paginated. A 404 saying no settlements were found is an empty window; the envelope
        may come as an object or as a one-element array.
        """
        return self._windowed_envelopes(
            f"/financial/v3.0/merchants/{merchant_id}/settlements",
            begin,
            end,
            SETTLEMENTS_MAX_WINDOW_DAYS,
            ("beginPaymentDate", "endPaymentDate"),
            empty_when=lambda exc: _says_no_settlements(exc.body),
        )

    def anticipations(self, merchant_id: str, begin: date, end: date) -> Iterator[dict[str, Any]]:
        """The anticipations envelope of every calculation-date window (≤ 31 days) in [begin, end].

        A 404 means the merchant has no anticipation plan: nothing to extract.
        """
        return self._windowed_envelopes(
            f"/financial/v3.0/merchants/{merchant_id}/anticipations",
            begin,
            end,
            ANTICIPATIONS_MAX_WINDOW_DAYS,
            ("beginCalculationDate", "endCalculationDate"),
            empty_when=lambda exc: True,
        )

    def _windowed_envelopes(
        self,
        path: str,
        begin: date,
        end: date,
        max_days: int,
        params: tuple[str, str],
        *,
        empty_when: Callable[[ProviderError], bool],
    ) -> Iterator[dict[str, Any]]:
        """One unpaginated envelope per date window; a 404 that `empty_when` accepts is an empty window."""
        for window_begin, window_end in _windows(begin, end, max_days):
            try:
                body = self.transport.get_json(
                    path,
                    params={params[0]: window_begin.isoformat(), params[1]: window_end.isoformat()},
                    auth=self.auth,
                )
            except ProviderError as exc:
                if exc.status == 404 and empty_when(exc):
                    continue
                raise
            yield _unwrap(body)

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
        and parses the gzipped `;` CSV by header name.
        """
        request_id = self.request_reconciliation(merchant_id, competence)
        download_path = self.wait_for_reconciliation(
            merchant_id, request_id, timeout_s=poll_timeout_s, initial_s=poll_initial_s, max_s=poll_max_s
        )
        return parse_reconciliation_csv(self.transport.download(download_path))

    def request_reconciliation(self, merchant_id: str, competence: str) -> str:
        """POST an on-demand request; the id of a new request, or of the recent one iFood keeps."""
        if not re.fullmatch(r"\d{4}-\d{2}", competence):
            raise ValueError(f"competence must be YYYY-MM, got {competence!r}")
        try:
            response = self.transport.request(
                "POST",
                f"/financial/v3.0/merchants/{merchant_id}/reconciliation/on-demand",
                json={"competence": competence},
                auth=self.auth,
                retry_statuses=_ON_DEMAND_RETRY_STATUSES,
            )
        except ProviderError as exc:
            existing = _existing_request_id(exc.status, exc.body)
            if existing is None:
                raise
            return existing
        body = _unwrap(decode_json(response))
        request_id = body.get("requestId") or body.get("id")
        if not request_id:
            raise ProviderError(f"ifood: on-demand request for {competence} returned no requestId: {body!r}")
        return str(request_id)

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
        deadline = time.monotonic() + timeout_s
        delay = initial_s
        while True:
            body = _unwrap(
                self.transport.get_json(
                    f"/financial/v3.0/merchants/{merchant_id}/reconciliation/on-demand/{request_id}", auth=self.auth
                )
            )
            status = str(body.get("status") or "").lower()
            if status == "processed":
                download_path = body.get("downloadPath")
                if not download_path:
                    raise ProviderError(
                        f"ifood: reconciliation request {request_id} is processed but has no downloadPath"
                    )
                return str(download_path)
            if status == "error":
                message = str(body.get("message") or "")
                raise ReconciliationReportError(
                    f"ifood: reconciliation request {request_id} failed: {message or 'no message'}",
                    report_message=message,
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProviderError(
                    f"ifood: reconciliation request {request_id} still {status or 'unknown'!r} after {timeout_s:.0f}s"
                )
            self.transport._sleep(min(delay, remaining))
            delay = min(delay * 2, max_s)


class IfoodProvider(Provider):
    name = "ifood"
    default_base_url = IfoodClient.DEFAULT_BASE_URL
    credential_fields = ("client_id", "client_secret")
    external_id_fields = ("merchant_ids",)
    raw_tables = (
        "ifood_sales",
        "ifood_financial_events",
        "ifood_settlements",
        "ifood_anticipations",
        "ifood_reconciliation_lines",
    )

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
            for envelope in self.client.settlements(merchant_id, interval.first_date, interval.last_date):
                for item in settlement_items(envelope):
                    yield RawRecord("ifood_settlements", str(item["id"]), item, keys)
            for envelope in self.client.anticipations(merchant_id, interval.first_date, interval.last_date):
                for item in settlement_items(envelope):
                    yield RawRecord("ifood_anticipations", anticipation_id(merchant_id, item), item, keys)
            for competence in competences(interval.first_date, interval.last_date):
                try:
                    lines = self.client.reconciliation_report(merchant_id, competence)
                except ReconciliationReportError as exc:
                    if "no financial entries" in exc.report_message.lower():
                        continue  # a month without entries has no file; nothing to extract
                    raise
                for line_id, line in zip(reconciliation_line_ids(merchant_id, lines), lines, strict=True):
                    yield RawRecord("ifood_reconciliation_lines", line_id, line, keys)


def settlement_items(envelope: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a settlements (or anticipations) envelope, with its calculation period.

    `settlements[]` mixes period groups (startDateCalculation, endDateCalculation,
    closingItems[]) and loose titles (e.g. REGISTRO_RECEBIVEIS, with an id of their own); both
    are money iFood moved, so both are items, a loose one with null period dates.
    """
    for entry in envelope.get("settlements") or []:
        if "closingItems" in entry:
            period = {
                "startDateCalculation": entry.get("startDateCalculation"),
                "endDateCalculation": entry.get("endDateCalculation"),
            }
            for item in entry.get("closingItems") or []:
                yield {**item, **period}
        elif entry.get("id") is not None or entry.get("type") is not None:
            yield {**entry, "startDateCalculation": None, "endDateCalculation": None}


def anticipation_id(merchant_id: str, item: dict[str, Any]) -> str:
    """A stable id for an anticipation item: its id when it has one, else what identifies it.

    Status and the fee (which may be settled later) are left out, so a PENDING item that
    becomes SUCCEED is a new version of the same record.
    """
    parts = [
        merchant_id,
        str(item.get("id")),
        str(item.get("type")),
        str(item.get("startDateCalculation")),
        str(item.get("endDateCalculation")),
        str(item.get("originalPaymentDate")),
        str(item.get("anticipatedPaymentDate")),
        _canonical(item.get("originalPaymentAmount")),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def reconciliation_line_ids(merchant_id: str, lines: list[dict[str, Any]]) -> list[str]:
    """A stable id per reconciliation line, built from its identifying columns.

    Lines identical in all of them (two equal fees on one order) are told apart by their
    ordinal among the identical ones, which does not depend on the file's line order.
    """
    seen: Counter[str] = Counter()
    ids = []
    for line in lines:
        key = "|".join([merchant_id, *(_canonical(line.get(col)) for col in RECONCILIATION_LINE_ID_COLUMNS)])
        seen[key] += 1
        ids.append(hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:32])
    return ids


def competences(first: date, last: date) -> list[str]:
    """Every month (YYYY-MM) that [first, last] touches."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def parse_reconciliation_csv(content: bytes) -> list[dict[str, Any]]:
    """The lines of a reconciliation file (gzip or plain), one dict per line, by header name.

    Column order varies between files, so nothing depends on it. Numeric columns with a
    decimal comma or dot become Decimal; text in them ("Open settlement period",
    "Discontinued column") stays text; empty values become None.
    """
    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header: list[str] | None = None
    lines: list[dict[str, Any]] = []
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue
        if header is None:
            header = [name.strip() for name in row]
            continue
        line: dict[str, Any] = {}
        for name, raw in zip(header, row, strict=False):
            value = raw.strip()
            if not value:
                line[name] = None
            elif name.lower() in RECONCILIATION_NUMERIC_COLUMNS:
                line[name] = parse_decimal(value)
            else:
                line[name] = value
        for name in header[len(row) :]:
            line[name] = None
        lines.append(line)
    return lines


def parse_decimal(value: str) -> Decimal | str:
    """'1234,56', '1.234,56', '1234.56', '1,234.56' → Decimal; anything else stays text.

    With both separators the last one is the decimal point; a lone comma is decimal.
    """
    text = value.strip().replace(" ", "")
    if not _NUMBER.match(text):
        return value
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        text = text.replace(thousands, "").replace(decimal_sep, ".")
    elif "," in text:
        if text.count(",") > 1:
            return value
        text = text.replace(",", ".")
    elif text.count(".") > 1:
        return value
    try:
        return Decimal(text)
    except InvalidOperation:
        return value


def _canonical(value: Any) -> str:
    """Text of a value that does not depend on how a number was written (1.5 == 1.50)."""
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return format(Decimal(str(value)).normalize(), "f")
    return "" if value is None else str(value)


def _says_no_settlements(body: str | None) -> bool:
    text = re.sub(r"[_\s]+", " ", (body or "").lower())
    return "no settlements found" in text or "no settlement found" in text


def _existing_request_id(status: int | None, body: str | None) -> str | None:
    """The id of the recent request a 409 (or a 400 with code "409") points at, if any."""
    if status not in (400, 409) or not body:
        return None
    if status == 400 and '"409"' not in body and "already a recent" not in body.lower():
        return None
    match = _EXISTING_REQUEST.search(body)
    return match.group(1) if match else None


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
