"""iFood settlements, anticipations and the on-demand reconciliation file.

The parsing tests feed the CSV parser bytes written here (real input data, gzipped or not).
The wire tests run the client against the sandbox over real sockets; what they check is our
reading of the provider documentation (windows ≤ 31 days, 409 carrying the existing request
id, a pre-signed download fetched without the iFood token), not the sandbox's internals.
"""

from __future__ import annotations

import gzip
import itertools
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from plugins.providers.base import Interval
from plugins.providers.errors import ResponseShapeError
from plugins.providers.ifood import (
    IfoodClient,
    IfoodProvider,
    competences,
    parse_decimal,
    parse_reconciliation_csv,
    reconciliation_line_ids,
    settlement_items,
)
from plugins.providers.transport import TransportOptions
from sandbox.options import ServerOptions
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


# --- against the sandbox -------------------------------------------------------------------

# Two stores: with this seed one anticipates a payout batch (it has an anticipation plan), the
# other never does (iFood answers its documented 404).
CONFIG = WorldConfig(
    seed=23,
    tenants=1,
    stores_per_tenant=2,
    days=10,
    orders_per_day=20,
    bank_noise_per_day=10,
    anticipation_rate=0.1,
)
FIRST, LAST = CONFIG.start, CONFIG.start + timedelta(days=CONFIG.days - 1)


@pytest.fixture(scope="module")
def sandbox():
    world = World(CONFIG)
    base_url, stop = start_in_thread(world, port=0, options=ServerOptions().with_platform("ifood", ondemand_delay_s=0))
    creds = world.credentials(base_url)
    yield world, creds["base_urls"], creds["tenants"][0]
    stop()


class Wire(list):
    """What went over the wire: (method, url, status, sent an Authorization header)."""

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        self.append((request.method, str(request.url), response.status_code, "authorization" in request.headers))


def client_for(urls: dict, tenant: dict) -> tuple[IfoodClient, Wire, list[float]]:
    sleeps: list[float] = []
    client = IfoodClient(
        tenant["ifood"]["client_id"], tenant["ifood"]["client_secret"], base_url=urls["ifood"], sleep=sleeps.append
    )
    wire = Wire()
    client.transport._client.event_hooks["response"].append(wire)
    return client, wire, sleeps


def merchants(world: World) -> tuple[str, str]:
    """(a merchant that anticipated a batch, one that never did)."""
    ifood = world.facts["ifood"]
    planned = {b.merchant_id for b in ifood.batches if b.anticipation is not None}
    with_plan = [m.merchant_id for m in ifood.merchants if m.merchant_id in planned]
    without = [m.merchant_id for m in ifood.merchants if m.merchant_id not in planned]
    assert with_plan and without, "the world must have a store with and one without an anticipation plan"
    return with_plan[0], without[0]


def expected_settlement_items(world: World, merchant: str, begin: date, end: date) -> Counter:
    """From the world's facts: (payment date, amount, status) of every payout of a batch that was not
    anticipated, by payment date in [begin, end]: its credits (SUCCEED once in the bank, PENDING while
    planned), or its total on its expected date when it has no credit."""
    items: Counter = Counter()
    for batch in world.facts["ifood"].batches:
        if batch.merchant_id != merchant or batch.anticipation is not None:
            continue
        parts = [(c.date, c.amount, "SUCCEED" if c.date < world.as_of else "PENDING") for c in batch.credits]
        for when, amount, status in parts or [(batch.expected_date, batch.total, "PENDING")]:
            if begin <= when <= end:
                items[(when.isoformat(), amount, status)] += 1
    return items


def test_settlements_come_in_windows_of_at_most_31_days_and_are_every_payout(sandbox) -> None:
    world, urls, tenant = sandbox
    client, wire, _ = client_for(urls, tenant)
    begin, end = FIRST, LAST + timedelta(days=60)
    for merchant in tenant["ifood"]["merchant_ids"]:
        wire.clear()
        items = [item for envelope in client.settlements(merchant, begin, end) for item in settlement_items(envelope)]
        got = Counter((i["paymentDate"], Decimal(str(i["amount"])), i["status"]) for i in items)
        expected = expected_settlement_items(world, merchant, begin, end)
        assert got == expected
        assert any(status == "SUCCEED" for _, _, status in expected), "some payouts were paid in the window"
        ids = [str(item["id"]) for item in items]
        assert len(ids) == len(set(ids))
        calls = [httpx.URL(url) for method, url, _, _ in wire if method == "GET" and "/settlements" in url]
        assert len(calls) == 3, "91 days in windows of at most 31"
        covered = [
            (date.fromisoformat(u.params["beginPaymentDate"]), date.fromisoformat(u.params["endPaymentDate"]))
            for u in calls
        ]
        assert all((e - b).days <= 30 for b, e in covered)
        assert covered[0][0] == begin and covered[-1][1] == end
        assert all(b == previous_end + timedelta(days=1) for (_, previous_end), (b, _) in itertools.pairwise(covered))


def test_settlements_of_a_period_without_payouts_are_iFoods_documented_404_not_an_error(sandbox) -> None:
    _, urls, tenant = sandbox
    client, wire, _ = client_for(urls, tenant)
    merchant = tenant["ifood"]["merchant_ids"][0]
    long_before = FIRST - timedelta(days=400)
    envelopes = list(client.settlements(merchant, long_before, long_before + timedelta(days=5)))
    assert envelopes == []
    assert [status for method, url, status, _ in wire if "/settlements" in url] == [404]


def test_anticipations_are_every_anticipated_batch_and_no_plan_is_empty(sandbox) -> None:
    world, urls, tenant = sandbox
    client, wire, _ = client_for(urls, tenant)
    with_plan, without_plan = merchants(world)
    items = [i for e in client.anticipations(with_plan, FIRST, LAST + timedelta(days=30)) for i in settlement_items(e)]
    expected = sorted(
        (
            b.anticipation.date.isoformat(),
            b.anticipation.amount,
            b.anticipation.original_amount,
            b.anticipation.fee,
            b.expected_date.isoformat(),
        )
        for b in world.facts["ifood"].batches
        if b.merchant_id == with_plan and b.anticipation is not None
    )
    got = sorted(
        (
            i["anticipatedPaymentDate"],
            Decimal(str(i["anticipatedPaymentAmount"])),
            Decimal(str(i["originalPaymentAmount"])),
            Decimal(str(i["feeAmount"])),
            i["originalPaymentDate"],
        )
        for i in items
    )
    assert got == expected and expected
    assert all(i["startDateCalculation"] and i["type"].startswith("REPASSE_ANTECIPADO") for i in items)

    wire.clear()
    assert list(client.anticipations(without_plan, FIRST, LAST + timedelta(days=30))) == []
    assert [status for method, url, status, _ in wire if "/anticipations" in url] == [404, 404]


def test_on_demand_report_is_requested_polled_and_downloaded_without_the_token(sandbox) -> None:
    world, urls, tenant = sandbox
    client, wire, sleeps = client_for(urls, tenant)
    merchant = tenant["ifood"]["merchant_ids"][0]
    competence = FIRST.strftime("%Y-%m")
    lines = client.reconciliation_report(merchant, competence, poll_timeout_s=120, poll_initial_s=0.2)
    events = [
        e for e in world.facts["ifood"].events_by_merchant[merchant] if e.business_date.isoformat()[:7] == competence
    ]
    assert len(lines) == len(events), "one line per financial event of the competence"
    assert sorted((line["pedido_associado_ifood"], line["valor"]) for line in lines) == sorted(
        (e.order_id, e.amount) for e in events
    )
    assert all(isinstance(line["valor"], Decimal) for line in lines)
    assert {line["impacto_no_repasse"] for line in lines} == {"SIM"}

    posts = [entry for entry in wire if entry[0] == "POST" and entry[1].endswith("/reconciliation/on-demand")]
    assert len(posts) == 1 and posts[0][3], "one request, with the iFood token"
    polls = [entry for entry in wire if entry[0] == "GET" and "/reconciliation/on-demand/" in entry[1]]
    assert len(polls) == 2 and all(entry[3] for entry in polls), "the first poll answers created, the second processed"
    assert sleeps == [0.2]
    downloads = [entry for entry in wire if entry not in posts and entry not in polls and "/oauth/" not in entry[1]]
    assert [status for _, _, status, _ in downloads] == [200]
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
    assert [status for _, _, status, _ in posts] == [202, 409], "the 409 is read, never retried"
    assert sleeps == []


def test_provider_sync_yields_every_record_of_the_new_financial_tables(sandbox) -> None:
    world, urls, tenant = sandbox
    provider = IfoodProvider(
        credentials={"client_id": tenant["ifood"]["client_id"], "client_secret": tenant["ifood"]["client_secret"]},
        external_ids={"merchant_ids": tenant["ifood"]["merchant_ids"]},
        base_url=urls["ifood"],
        transport=TransportOptions(sleep=lambda seconds: None),
    )
    last = LAST + timedelta(days=30)
    try:
        records = list(provider.sync(Interval.for_dates(FIRST, last)))
    finally:
        provider.close()
    tables = Counter(r.table for r in records)
    merchant_ids = tenant["ifood"]["merchant_ids"]
    assert tables["ifood_settlements"] == sum(
        sum(expected_settlement_items(world, m, FIRST, last).values()) for m in merchant_ids
    )
    ifood = world.facts["ifood"]
    assert tables["ifood_anticipations"] == sum(1 for b in ifood.batches if b.anticipation is not None)
    assert tables["ifood_reconciliation_lines"] == sum(len(ifood.events_by_merchant[m]) for m in merchant_ids)
    assert tables["ifood_sales"] == sum(len(ifood.sales_by_merchant[m]) for m in merchant_ids)
    for table in ("ifood_settlements", "ifood_anticipations", "ifood_reconciliation_lines"):
        ids = [r.external_id for r in records if r.table == table]
        assert len(ids) == len(set(ids)), f"{table} ids must not collide"
    assert all(r.keys["merchant_id"] for r in records)
