"""iFood settlements, anticipations and the on-demand reconciliation file, over the wire.

The tests run the client against the sandbox over real sockets; what they check is our reading
of the provider documentation (windows ≤ 31 days, 409 carrying the existing request id, a
pre-signed download fetched without the iFood token), not the sandbox's internals.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from plugins.providers.base import Interval
from plugins.providers.ifood.client import IfoodClient
from plugins.providers.ifood.provider import IfoodProvider, competences
from plugins.providers.ifood.records import settlement_items
from plugins.providers.transport import TransportOptions
from sandbox.options import ServerOptions
from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig


def test_competences_cover_every_month_touched() -> None:
    assert competences(date(2026, 11, 28), date(2027, 2, 1)) == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert competences(date(2026, 10, 5), date(2026, 10, 5)) == ["2026-10"]


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
