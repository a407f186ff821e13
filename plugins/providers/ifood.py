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
import logging
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import httpx
import msgspec

from plugins.providers import ifood_shapes as shapes
from plugins.providers.base import Interval, Provider, RawRecord
from plugins.providers.errors import IncompleteExtractionError, NotLinkedError, ProviderError, ResponseShapeError
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

# Reconciliation CSV columns that hold amounts (or rates): Decimal, empty, or a documented placeholder.
RECONCILIATION_NUMERIC_COLUMNS = frozenset(
    {"valor", "base_calculo", "percentual_taxa", "valor_transacao", "valor_cesta_inicial", "valor_cesta_final"}
)
# Columns that hold dates (YYYY-MM-DD, optionally with a time, or DD/MM/YYYY), or are empty.
RECONCILIATION_DATE_COLUMNS = frozenset(
    {
        "data_fato_gerador",
        "data_criacao_pedido_associado",
        "data_repasse_esperada",
        "data_faturamento",
        "data_apuracao_inicio",
        "data_apuracao_fim",
    }
)
# Columns a file must have (staging and the reconciliation read them), and the one every line fills.
RECONCILIATION_REQUIRED_COLUMNS = (
    "competencia",
    "fato_gerador",
    "valor",
    "pedido_associado_ifood",
    "impacto_no_repasse",
)
RECONCILIATION_REQUIRED_VALUES = frozenset({"competencia", "valor"})
# Text iFood documents in place of a value (reference §2.6): kept as text, read as "no value".
RECONCILIATION_PLACEHOLDERS = frozenset({"open settlement period", "discontinued column"})
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
# Decimal text: one optional separator as the decimal point, or grouped thousands (3 digits) with
# the other separator as the decimal point. Anything else ("131,8,9", "1.2.3") is not a number.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+([.,]\d+)?")
_DOT_THOUSANDS = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?")
_COMMA_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})([T ].*)?")
_BR_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})( .*)?")
_COMPETENCE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

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
    what proves it complete (see `ifood_shapes`).
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
        if not _COMPETENCE.fullmatch(competence):
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
            self.credentials["client_id"],
            self.credentials["client_secret"],
            base_url=self.base_url,
            options=self.transport_options,
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


def parse_reconciliation_csv(content: bytes, *, source: str = "reconciliation file") -> list[dict[str, Any]]:
    """The lines of a reconciliation file (gzip or plain), one dict per line, by header name.

    Column order varies between files, so nothing depends on it. Every value is checked, because
    staging reads these columns as numbers and dates and would otherwise turn a bad cell into a
    silent null: money columns become Decimal (decimal comma or dot), date columns must be dates,
    `competencia` a month, `impacto_no_repasse` SIM/NAO; empty cells become None (`valor` and
    `competencia` may not be empty); iFood's documented placeholders ("Open settlement period",
    "Discontinued column") stay text. Anything else raises ResponseShapeError naming the file
    (`source`), the line number, the column and the value: nothing of the file lands.
    """
    if content[:2] == b"\x1f\x8b":
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError, zlib.error) as exc:
            raise ResponseShapeError(f"ifood: {source} is not a complete gzip file ({exc})") from exc
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header: list[str] | None = None
    lines: list[dict[str, Any]] = []
    try:
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            if header is None:
                header = [name.strip() for name in row]
                missing = [c for c in RECONCILIATION_REQUIRED_COLUMNS if c not in {h.lower() for h in header}]
                if missing:
                    raise ResponseShapeError(f"ifood: {source} has no column {', '.join(missing)} in its header")
                continue
            if len(row) != len(header):
                raise ResponseShapeError(
                    f"ifood: {source}, line {reader.line_num}: {len(row)} fields where the header has {len(header)}"
                )
            lines.append(
                {name: _csv_value(source, reader.line_num, name, raw) for name, raw in zip(header, row, strict=True)}
            )
    except csv.Error as exc:
        raise ResponseShapeError(f"ifood: {source}, line {reader.line_num}: malformed CSV ({exc})") from exc
    return lines


def _csv_value(source: str, line: int, name: str, raw: str) -> Any:
    """One cell, checked for what its column holds (see parse_reconciliation_csv)."""
    value = raw.strip()
    column = name.lower()
    if not value:
        if column in RECONCILIATION_REQUIRED_VALUES:
            raise ResponseShapeError(f"ifood: {source}, line {line}, column {name}: empty, but every line needs it")
        return None
    if value.lower() in RECONCILIATION_PLACEHOLDERS and column not in RECONCILIATION_REQUIRED_VALUES:
        return value
    try:
        if column in RECONCILIATION_NUMERIC_COLUMNS:
            return parse_decimal(value)
        if column in RECONCILIATION_DATE_COLUMNS:
            _parse_csv_date(value)
        elif column == "competencia" and not _COMPETENCE.fullmatch(value):
            raise ValueError("is not a month (YYYY-MM)")
        elif column == "impacto_no_repasse" and value.upper() not in ("SIM", "NAO", "NÃO"):
            raise ValueError("is not SIM or NAO")
    except ValueError as exc:
        raise ResponseShapeError(f"ifood: {source}, line {line}, column {name}: {value!r} {exc}") from None
    return value


def _parse_csv_date(value: str) -> date:
    """`YYYY-MM-DD` (optionally followed by a time) or `DD/MM/YYYY`; ValueError otherwise."""
    iso, brazilian = _ISO_DATE.fullmatch(value), _BR_DATE.fullmatch(value)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if brazilian:
            return date(int(brazilian[3]), int(brazilian[2]), int(brazilian[1]))
    except ValueError:
        pass
    raise ValueError("is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def parse_decimal(value: str) -> Decimal:
    """'1234,56', '1.234,56', '1234.56', '1,234.56' → Decimal; ValueError for anything else.

    A single separator is the decimal point; with thousands grouping (groups of three digits)
    the other separator is. '131,8,9' or '1.2.3' are not numbers.
    """
    text = value.strip().replace(" ", "")
    if _PLAIN_NUMBER.fullmatch(text):
        text = text.replace(",", ".")
    elif _DOT_THOUSANDS.fullmatch(text):
        text = text.replace(".", "").replace(",", ".")
    elif _COMMA_THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    else:
        raise ValueError("is not a number")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the patterns admit only valid decimals
        raise ValueError("is not a number") from None


def _canonical(value: Any) -> str:
    """Text of a value that does not depend on how a number was written (1.5 == 1.50)."""
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return format(Decimal(str(value)).normalize(), "f")
    return "" if value is None else str(value)


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


def _windows(begin: date, end: date, max_days: int) -> Iterator[tuple[date, date]]:
    current = begin
    while current <= end:
        window_end = min(end, current + timedelta(days=max_days - 1))
        yield current, window_end
        current = window_end + timedelta(days=1)
