"""iFood record parsing and ids: the reconciliation file, decimal text, stable line ids.

The parsing tests feed the CSV parser bytes written here (real input data, gzipped or not).
"""

from __future__ import annotations

import gzip
from decimal import Decimal

import pytest

from plugins.providers.errors import ResponseShapeError
from plugins.providers.ifood.records import (
    parse_decimal,
    parse_reconciliation_csv,
    reconciliation_line_ids,
    settlement_items,
)

HEADER = [
    "competencia",
    "data_fato_gerador",
    "fato_gerador",
    "tipo_lancamento",
    "descricao_lancamento",
    "valor",
    "base_calculo",
    "percentual_taxa",
    "pedido_associado_ifood",
    "valor_transacao",
    "loja_id",
    "impacto_no_repasse",
    "id_saldo",
]
LINES = [
    [
        "2026-10",
        "2026-10-05",
        "Venda",
        "cobranca",
        "Comissao",
        "-11,90",
        "100,00",
        "11,9",
        "o1",
        "100,00",
        "m1",
        "SIM",
        "s1",
    ],
    [
        "2026-10",
        "2026-10-05",
        "Venda",
        "subsidio",
        "Subsidio iFood",
        "5.00",
        "",
        "",
        "o1",
        "Open settlement period",
        "m1",
        "NAO",
        "",
    ],
    [
        "2026-10",
        "2026-10-06",
        "Cancelamento Total",
        "retencao",
        "Estorno",
        "-1.234,56",
        "1.234,56",
        "0",
        "o2",
        "1234.56",
        "m1",
        "SIM",
        "s2",
    ],
]


def csv_bytes(header: list[str], lines: list[list[str]], *, order: list[int] | None = None, gz: bool = True) -> bytes:
    order = order if order is not None else list(range(len(header)))
    rows = [";".join(header[i] for i in order)] + [";".join(line[i] for i in order) for line in lines]
    text = "\r\n".join(rows) + "\r\n"
    data = ("\ufeff" + text).encode("utf-8")
    return gzip.compress(data) if gz else data


# --- parsing: pure -------------------------------------------------------------------------


def test_csv_is_parsed_by_header_name_whatever_the_column_order() -> None:
    straight = parse_reconciliation_csv(csv_bytes(HEADER, LINES))
    reversed_order = list(reversed(range(len(HEADER))))
    shuffled = parse_reconciliation_csv(csv_bytes(HEADER, LINES, order=reversed_order))
    assert straight == shuffled
    assert len(straight) == 3
    assert list(straight[0]) == HEADER, "original header names are kept (BOM stripped)"
    assert straight[0]["pedido_associado_ifood"] == "o1"
    assert straight[0]["impacto_no_repasse"] == "SIM"


def test_csv_numeric_columns_accept_decimal_comma_and_dot_into_decimal() -> None:
    lines = parse_reconciliation_csv(csv_bytes(HEADER, LINES))
    assert lines[0]["valor"] == Decimal("-11.90") and isinstance(lines[0]["valor"], Decimal)
    assert lines[0]["percentual_taxa"] == Decimal("11.9")
    assert lines[1]["valor"] == Decimal("5.00")
    assert lines[2]["valor"] == Decimal("-1234.56")
    assert lines[2]["base_calculo"] == Decimal("1234.56")
    assert lines[2]["valor_transacao"] == Decimal("1234.56")
    # text in a numeric column stays text, empty becomes None
    assert lines[1]["valor_transacao"] == "Open settlement period"
    assert lines[1]["base_calculo"] is None and lines[1]["id_saldo"] is None
    # non-numeric columns are never converted
    assert lines[0]["competencia"] == "2026-10" and lines[0]["data_fato_gerador"] == "2026-10-05"


def test_csv_gzip_and_plain_give_the_same_lines() -> None:
    assert parse_reconciliation_csv(csv_bytes(HEADER, LINES, gz=True)) == parse_reconciliation_csv(
        csv_bytes(HEADER, LINES, gz=False)
    )
    assert parse_reconciliation_csv(gzip.compress(b"")) == []
    header_only = ";".join(HEADER).encode()
    assert parse_reconciliation_csv(gzip.compress(header_only)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234,56", Decimal("1234.56")),
        ("1.234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("-0,5", Decimal("-0.5")),
        ("7", Decimal("7")),
        ("+12.5", Decimal("12.5")),
    ],
)
def test_parse_decimal(text: str, expected: Decimal) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize(
    "text", ["131,8,9", "1,2,3", "1.2.3", "1.2345,6", "12,", "abc", "Discontinued column", "1e5", "NaN"]
)
def test_parse_decimal_refuses_what_is_not_a_number(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number"):
        parse_decimal(text)


def test_line_ids_are_stable_across_order_and_distinguish_identical_lines() -> None:
    lines = parse_reconciliation_csv(csv_bytes(HEADER, [*LINES, LINES[0]]))
    ids = reconciliation_line_ids("m1", lines)
    assert len(set(ids)) == 4, "a repeated identical line is a second line, not a duplicate"
    again = reconciliation_line_ids("m1", list(reversed(lines)))
    assert sorted(ids) == sorted(again)
    assert reconciliation_line_ids("m2", lines) != ids
    # the way a number was written does not change the id
    comma = parse_reconciliation_csv(csv_bytes(HEADER, [LINES[0]]))
    dot_line = [*LINES[0]]
    dot_line[HEADER.index("valor")] = "-11.9"
    dot = parse_reconciliation_csv(csv_bytes(HEADER, [dot_line]))
    assert reconciliation_line_ids("m1", comma) == reconciliation_line_ids("m1", dot)


def test_settlement_items_carry_their_period_and_keep_loose_titles() -> None:
    envelope = {
        "settlements": [
            {"id": "20112085", "type": "REGISTRO_RECEBIVEIS", "amount": Decimal("80"), "paymentDate": "2024-01-03"},
            {
                "startDateCalculation": "2024-01-22",
                "endDateCalculation": "2024-01-28",
                "closingItems": [{"id": "92559065", "type": "REPASSE", "amount": Decimal("120.3")}],
            },
        ]
    }
    items = list(settlement_items(envelope))
    assert [i["id"] for i in items] == ["20112085", "92559065"]
    assert items[1]["startDateCalculation"] == "2024-01-22" and items[1]["endDateCalculation"] == "2024-01-28"
    assert items[0]["startDateCalculation"] is None


# --- strict values: nothing unparseable becomes a silent null ---------------------------------


def _line_with(column: str, value: str) -> list[str]:
    line = [*LINES[0]]
    line[HEADER.index(column)] = value
    return line


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("valor", "131,8,9", "is not a number"),
        ("valor", "", "empty, but every line needs it"),
        ("base_calculo", "abc", "is not a number"),
        ("valor", "Open settlement period", "is not a number"),  # a placeholder is no amount
        ("data_fato_gerador", "2026-02-30", "is not a date"),
        ("data_fato_gerador", "yesterday", "is not a date"),
        ("competencia", "10/2026", "is not a month"),
        ("impacto_no_repasse", "TALVEZ", "is not SIM or NAO"),
    ],
)
def test_a_value_that_cannot_be_read_fails_naming_line_column_and_value(column: str, value: str, problem: str) -> None:
    content = csv_bytes(HEADER, [LINES[0], LINES[1], _line_with(column, value)])
    with pytest.raises(ResponseShapeError) as raised:
        parse_reconciliation_csv(content, source="reconciliation file of m1 for 2026-10")
    message = str(raised.value)
    assert message.startswith(f"ifood: reconciliation file of m1 for 2026-10, line 4, column {column}: ")
    assert problem in message and (repr(value) in message or not value)


def test_documented_placeholders_stay_text_and_dates_may_be_brazilian() -> None:
    line = _line_with("valor_transacao", "Discontinued column")
    line[HEADER.index("data_fato_gerador")] = "05/10/2026"
    [parsed] = parse_reconciliation_csv(csv_bytes(HEADER, [line]))
    assert parsed["valor_transacao"] == "Discontinued column"
    assert parsed["data_fato_gerador"] == "05/10/2026"


def test_a_line_with_more_or_fewer_fields_than_the_header_fails() -> None:
    short = gzip.compress((";".join(HEADER) + "\n" + ";".join(LINES[0][:-2]) + "\n").encode())
    with pytest.raises(ResponseShapeError, match=r"line 2: 11 fields where the header has 13"):
        parse_reconciliation_csv(short)
    unquoted_semicolon = csv_bytes(HEADER, [_line_with("descricao_lancamento", "Comissao; ajuste")])
    with pytest.raises(ResponseShapeError, match=r"line 2: 14 fields"):
        parse_reconciliation_csv(unquoted_semicolon)


def test_a_file_without_a_required_column_or_cut_short_fails() -> None:
    without = [c for c in HEADER if c != "valor"]
    with pytest.raises(ResponseShapeError, match="has no column valor"):
        parse_reconciliation_csv(
            csv_bytes(without, [[v for c, v in zip(HEADER, LINES[0], strict=True) if c != "valor"]])
        )
    whole = csv_bytes(HEADER, LINES)
    with pytest.raises(ResponseShapeError, match="not a complete gzip file"):
        parse_reconciliation_csv(whole[: len(whole) // 2])
