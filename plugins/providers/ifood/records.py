"""iFood records as they land: the reconciliation file parsed line by line, and stable ids.

Two things the Financial API leaves to its clients live here, apart from the HTTP that fetches
them. The on-demand reconciliation file is a gzipped `;` CSV whose cells must be checked before
staging reads them as numbers and dates; and financial events, anticipation items and file lines
carry no id of their own, so each gets one built from what identifies it, stable across
re-extractions (re-loading the same entry adds nothing, a genuinely new entry gets its own id).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from plugins.providers.errors import ResponseShapeError

# A month as iFood names it (competence): YYYY-MM.
COMPETENCE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

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
        elif column == "competencia" and not COMPETENCE.fullmatch(value):
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
