"""iFood settlements, anticipations and the on-demand reconciliation file.

The parsing tests feed the CSV parser bytes written here (real input data, gzipped or not).
The wire tests run the client against the sandbox over real sockets; what they check is our
reading of the provider documentation (windows ≤ 31 days, 409 carrying the existing request
id, a pre-signed download fetched without the iFood token), not the sandbox's internals.
"""

from __future__ import annotations

import gzip
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from plugins.providers.base import Interval
from plugins.providers.ifood import (
    IfoodClient,
    IfoodProvider,
    competences,
    parse_decimal,
    parse_reconciliation_csv,
    reconciliation_line_ids,
    settlement_items,
)
from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig

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


@pytest.mark.parametrize("text", ["131,8,9", "1,2,3", "1.2.3", "1.2345,6", "12,", "abc", "Discontinued column", "1e5", "NaN"])
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


def test_competences_cover_every_month_touched() -> None:
    assert competences(date(2026, 11, 28), date(2027, 2, 1)) == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert competences(date(2026, 10, 5), date(2026, 10, 5)) == ["2026-10"]


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


# --- against the sandbox -------------------------------------------------------------------

CONFIG = WorldConfig(seed=23, tenants=1, stores_per_tenant=1, days=10, orders_per_day=20, bank_noise_per_day=10)
FIRST, LAST = CONFIG.start, CONFIG.start + timedelta(days=CONFIG.days - 1)


@pytest.fixture(scope="module")
def sandbox():
    world = World(CONFIG)
    base_url, stop = start_in_thread(world, port=0)
    creds = world.credentials(base_url)
    yield base_url, creds["base_urls"], creds["tenants"][0]
    stop()


class Wire(list):
    """What went over the wire: (method, url, status, sent an Authorization header)."""

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        self.append((request.method, str(request.url), response.status_code, "authorization" in request.headers))


def client_for(urls: dict, tenant: dict) -> tuple[IfoodClient, Wire, list[float]]:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        import time

        sleeps.append(seconds)
        time.sleep(min(seconds, 0.5))

    client = IfoodClient(
        tenant["ifood"]["client_id"], tenant["ifood"]["client_secret"], base_url=urls["ifood"], sleep=sleep
    )
    wire = Wire()
    client.transport._client.event_hooks["response"].append(wire)
    return client, wire, sleeps


def test_settlements_come_in_windows_of_at_most_31_days_with_unique_items(sandbox) -> None:
    _, urls, tenant = sandbox
    client, wire, _ = client_for(urls, tenant)
    merchant = tenant["ifood"]["merchant_ids"][0]
    begin, end = FIRST, LAST + timedelta(days=60)
    items = [item for envelope in client.settlements(merchant, begin, end) for item in settlement_items(envelope)]
    assert items, "a world with sales pays some of them within two months"
    ids = [str(item["id"]) for item in items]
    assert len(ids) == len(set(ids))
    assert all(isinstance(item["amount"], Decimal | int) for item in items)
    calls = [httpx.URL(url) for method, url, _, _ in wire if method == "GET" and "/settlements" in url]
    assert len(calls) >= 3
    covered = []
    for url in calls:
        b = date.fromisoformat(url.params["beginPaymentDate"])
        e = date.fromisoformat(url.params["endPaymentDate"])
        assert (e - b).days <= 30
        covered.append((b, e))
    assert covered[0][0] == begin and covered[-1][1] == end


def test_settlements_of_a_period_without_payouts_are_empty_not_an_error(sandbox) -> None:
    _, urls, tenant = sandbox
    client, _, _ = client_for(urls, tenant)
    merchant = tenant["ifood"]["merchant_ids"][0]
    long_before = FIRST - timedelta(days=400)
    assert [
        i
        for e in client.settlements(merchant, long_before, long_before + timedelta(days=5))
        for i in settlement_items(e)
    ] == []


def test_anticipations_never_fail_for_a_merchant(sandbox) -> None:
    _, urls, tenant = sandbox
    client, _, _ = client_for(urls, tenant)
    merchant = tenant["ifood"]["merchant_ids"][0]
    items = [i for e in client.anticipations(merchant, FIRST, LAST + timedelta(days=30)) for i in settlement_items(e)]
    assert all("type" in item for item in items)


def test_on_demand_report_is_requested_polled_and_downloaded_without_the_token(sandbox) -> None:
    _, urls, tenant = sandbox
    client, wire, _ = client_for(urls, tenant)
    merchant = tenant["ifood"]["merchant_ids"][0]
    competence = FIRST.strftime("%Y-%m")
    lines = client.reconciliation_report(merchant, competence, poll_timeout_s=120, poll_initial_s=0.2)
    assert lines, "a month with sales has reconciliation lines"
    assert {"valor", "pedido_associado_ifood", "fato_gerador", "impacto_no_repasse", "id_saldo"} <= set(lines[0])
    assert all(isinstance(line["valor"], Decimal) for line in lines if line.get("valor") is not None)
    assert {line["impacto_no_repasse"] for line in lines} <= {"SIM", "NAO"}

    posts = [entry for entry in wire if entry[0] == "POST" and entry[1].endswith("/reconciliation/on-demand")]
    assert len(posts) == 1 and posts[0][3], "one request, with the iFood token"
    polls = [entry for entry in wire if entry[0] == "GET" and "/reconciliation/on-demand/" in entry[1]]
    assert polls and all(entry[3] for entry in polls)
    downloads = [entry for entry in wire if entry not in posts and entry not in polls and "/oauth/" not in entry[1]]
    assert downloads and downloads[-1][2] == 200
    assert not any(has_auth for *_, has_auth in downloads), "the pre-signed link must not get our bearer token"


def test_a_second_request_within_the_window_reuses_the_existing_request_id(sandbox) -> None:
    _, urls, tenant = sandbox
    client, wire, sleeps = client_for(urls, tenant)
    merchant = tenant["ifood"]["merchant_ids"][0]
    competence = (FIRST.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    first = client.request_reconciliation(merchant, competence)
    second = client.request_reconciliation(merchant, competence)
    assert second == first
    posts = [entry for entry in wire if entry[0] == "POST" and "/reconciliation/on-demand" in entry[1]]
    assert len(posts) == 2, "the 409 is read, never retried"
    assert posts[1][2] in (200, 201, 202, 400, 409)
    assert sleeps == []


def test_provider_sync_yields_the_new_financial_tables(sandbox) -> None:
    _, urls, tenant = sandbox
    provider = IfoodProvider(
        credentials={"client_id": tenant["ifood"]["client_id"], "client_secret": tenant["ifood"]["client_secret"]},
        external_ids={"merchant_ids": tenant["ifood"]["merchant_ids"]},
        base_url=urls["ifood"],
    )
    try:
        records = list(provider.sync(Interval.for_dates(FIRST, LAST + timedelta(days=30))))
    finally:
        provider.close()
    tables = Counter(r.table for r in records)
    assert tables["ifood_settlements"] > 0
    assert tables["ifood_reconciliation_lines"] > 0
    for table in ("ifood_settlements", "ifood_anticipations", "ifood_reconciliation_lines"):
        ids = [r.external_id for r in records if r.table == table]
        assert len(ids) == len(set(ids)), f"{table} ids must not collide"
    assert all(r.keys["merchant_id"] for r in records)
