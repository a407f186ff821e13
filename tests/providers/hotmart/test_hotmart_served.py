"""Hotmart's client and provider against the served sandbox over real sockets: the world's facts, exactly.

The client (`plugins/providers/hotmart/`) and the sandbox (`sandbox/providers/hotmart/`) were
written apart from the same facts (reference §6); here they meet. A sync of an interval must land
exactly the purchases the world ordered in it (Hotmart's `start_date`/`end_date` read as the order
date), each with its status at the world's end (the sandbox answers as of then), its price details
and commissions, money equal to the world's facts to the cent (JSON numbers read as Decimals). Run
day by day with the account's webhooks landing as Hotmart sent them, every purchase refunded or
charged back after its order date reaches raw with that status.

Hotmart has no payouts API: its deposits are seen only in the bank (Pluggy), so nothing of the
world's payouts lands from here.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from ingestion.sync import run_sync
from ingestion.vault import Keyring, new_key_spec
from ingestion.webhook_landing import land
from plugins.providers.base import Interval
from plugins.providers.errors import AuthenticationError, BadSignatureError, MissingHeaderError, NotLinkedError
from plugins.providers.hotmart.records import from_millis
from plugins.providers.hotmart.shapes import PURCHASE_STATUSES
from plugins.providers.hotmart.webhook import HOTTOK_HEADER, HotmartWebhook
from plugins.providers.transport import RetryPolicy, TransportOptions
from sandbox.options import ServerOptions
from sandbox.server import start_in_thread
from sandbox.world import World

from ..served_clients import CONFIG, FIRST, LAST, Sleeps, clear_requests, without_faults
from .served import (
    COMMISSIONS,
    HISTORY,
    PRICE_DETAILS,
    TOKEN,
    add_integration,
    calls,
    facts_of,
    land_deliveries,
    listed_for,
    ordered_in,
    payments_of,
    sales_of,
    sales_rows,
    sent_to,
)

KEYRING = Keyring.parse(new_key_spec("hotmart-served"))
WORLD_DAYS = Interval.for_dates(FIRST, LAST)
SCHEME = HotmartWebhook()
LISTINGS = (HISTORY, COMMISSIONS, PRICE_DETAILS)


@pytest.fixture(scope="module")
def sandbox():
    """The clients' world, served without Hotmart's 500 calls a minute: a day-by-day run makes more
    than that in seconds, and the transport's waits are not spent here (429 handling is the fault
    suite's)."""
    world = World(CONFIG)
    base_url, stop = start_in_thread(world, port=0, options=ServerOptions().with_rate_limit(None))
    creds = world.credentials(base_url)
    yield base_url, creds["base_urls"], creds["tenants"][0], world
    stop()


@pytest.fixture(autouse=True)
def no_faults(sandbox):
    yield from without_faults(sandbox[0])


def accounts(sandbox) -> list[dict]:
    return sandbox[2]["hotmart"]["accounts"]


def registered(sandbox, url: str, index: int = 0, **credentials: str) -> tuple[dict, int]:
    _, urls, tenant, _ = sandbox
    account = accounts(sandbox)[index]
    return account, add_integration(url, KEYRING, tenant["tenant_id"], account, urls["hotmart"], **credentials)


def synced(url: str, integration_id: int, interval: Interval = WORLD_DAYS, **transport):
    return run_sync(
        url, integration_id, interval, keyring=KEYRING, transport=TransportOptions(sleep=Sleeps(), **transport)
    )


def landed(url: str, table: str) -> dict[str, dict]:
    """A raw table's API rows by transaction, payloads with exact Decimals (one row each)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"select external_id, payload::text from raw.{table} where source = 'api'").fetchall()
    found = {t: json.loads(text, parse_float=Decimal) for t, text in rows}
    assert len(found) == len(rows), f"a transaction landed twice in {table}"
    return found


def by_source(item: dict) -> dict[str, Decimal]:
    total: Counter[str] = Counter()
    for c in item["commissions"]:
        total[c["source"]] += c["commission"]["value"]
    return dict(total)


# ------------------------------------------------------------------------------- whole syncs


@pytest.mark.parametrize("index", [0, 1])
def test_a_sync_of_the_worlds_days_lands_exactly_their_sales_with_the_worlds_money(
    sandbox, clean_warehouse, index: int
) -> None:
    base_url, _, _, world = sandbox
    facts = facts_of(world)
    account, integration_id = registered(sandbox, clean_warehouse, index)
    expected = listed_for(world, account, WORLD_DAYS)
    payments = payments_of(world)
    statuses = Counter(h.status_at(facts.world_end) for h in expected.values())
    assert len(expected) > 20 and {"APPROVED", "COMPLETE"} <= set(statuses), statuses
    clear_requests(base_url)

    result = synced(clean_warehouse, integration_id)

    n = len(expected)
    assert result.rows_by_table == {
        table: {"fetched": n, "written": n}
        for table in ("hotmart_sales", "hotmart_commissions", "hotmart_price_details")
    }
    sales = landed(clean_warehouse, "hotmart_sales")
    commissions = landed(clean_warehouse, "hotmart_commissions")
    prices = landed(clean_warehouse, "hotmart_price_details")
    assert set(sales) == set(commissions) == set(prices) == set(expected)
    for transaction, h in expected.items():
        purchase, payment = sales[transaction]["purchase"], payments[transaction]
        assert purchase["status"] == h.status_at(facts.world_end)
        assert from_millis(purchase["order_date"]) == h.sale.created_at.replace(
            microsecond=h.sale.created_at.microsecond // 1000 * 1000
        )
        assert prices[transaction]["total"]["value"] == payment.gross, "gross: price details total, to the cent"
        assert prices[transaction]["fee"]["value"] == payment.fee, "Hotmart's fee, to the cent"
        parts = by_source(commissions[transaction])
        assert parts.get("PRODUCER", Decimal(0)) == payment.stated_net
        assert parts.get("AFFILIATE", Decimal(0)) == payment.affiliate_commission
        assert parts.get("COPRODUCER", Decimal(0)) == payment.coproducer_commission
        assert payment.gross - payment.fee - payment.split_withheld == payment.stated_net or payment.status not in (
            "paid",
            "refunded",
            "charged_back",
        )

    made = calls(base_url)
    assert [c for c in made if c[1] == TOKEN] == [("POST", TOKEN, {"grant_type": "client_credentials",
                                                                  "client_id": account["client_id"]})], (
        "one token per sync, the secret in no URL"
    )  # fmt: skip
    passes = Counter((path, query["transaction_status"]) for _, path, query in made if "transaction_status" in query)
    assert set(passes) >= {(path, status) for path in LISTINGS for status in PURCHASE_STATUSES}
    assert not [q for _, _, q in made if "transaction" in q], "nothing known, nothing moved: no read by transaction"


def test_a_few_days_land_exactly_the_sales_ordered_in_them(sandbox, clean_warehouse) -> None:
    world = sandbox[3]
    account, integration_id = registered(sandbox, clean_warehouse)
    days = Interval.for_dates(FIRST + timedelta(days=3), FIRST + timedelta(days=5))
    expected = listed_for(world, account, days)
    assert expected and len(expected) < len(ordered_in(world, account, WORLD_DAYS))
    assert set(expected) - set(ordered_in(world, account, days)), "the warranty passes list earlier sales too"
    synced(clean_warehouse, integration_id, days)
    assert set(landed(clean_warehouse, "hotmart_sales")) == set(expected)


def test_day_by_day_with_webhooks_every_sale_ends_with_its_last_status_and_no_refund_is_missed(
    sandbox, clean_warehouse
) -> None:
    """The daily DAG: each day, the webhooks Hotmart sent by the day's end land (received when
    sent), then that day is synced. Each sync gets one token; a transaction is read by
    `transaction=` at most once per sync. At the end, every purchase ordered in the world's days or
    named by a webhook has landed with its status at the world's end, and every refund and
    chargeback of the world is in raw as such."""
    base_url, _, _, world = sandbox
    facts = facts_of(world)
    account, integration_id = registered(sandbox, clean_warehouse, 1)  # the account whose buyers ask refunds
    sent = sent_to(world, account)
    approved: set[str] = set()  # landed APPROVED by an earlier sync: final, the warranty passes watch them
    day = FIRST
    while day <= LAST:
        interval = Interval.for_dates(day, day)
        land_deliveries(
            clean_warehouse,
            integration_id,
            [d for d in sent if d.sent_at is not None and interval.start <= d.sent_at < interval.end]
            if day != FIRST
            else [d for d in sent if d.sent_at is not None and d.sent_at < interval.end],
            keyring=KEYRING,
        )
        clear_requests(base_url)
        synced(clean_warehouse, integration_id, interval)
        made = calls(base_url)
        assert sum(1 for c in made if c[1] == TOKEN) == 1, f"{day}: one token per sync"
        reread = Counter((path, q["transaction"]) for _, path, q in made if "transaction" in q)
        assert all(n == 1 for n in reread.values()), f"{day}: a transaction read twice: {reread}"
        named = {
            json.loads(d.body)["data"]["purchase"]["transaction"]
            for d in sent
            if interval.start <= d.sent_at < interval.end
        }
        assert not {t for _, t in reread} & (approved - named), f"{day}: an APPROVED sale no webhook named was re-read"
        approved = {t for t, status, _, _ in sales_rows(clean_warehouse) if status == "APPROVED"}
        day += timedelta(days=1)

    notified = {json.loads(d.body)["data"]["purchase"]["transaction"] for d in sent if d.sent_at < WORLD_DAYS.end}
    expected = set(listed_for(world, account, WORLD_DAYS)) | notified
    latest = {t: status for t, status, _, _ in sales_rows(clean_warehouse)}
    everything = sales_of(world, account)
    assert set(latest) == expected
    assert {t: everything[t].status_at(facts.world_end) for t in expected} == latest
    undone = {t for t, h in everything.items() if h.status_at(facts.world_end) in ("REFUNDED", "CHARGEBACK")}
    assert undone & expected, "the world refunds or charges back some of these sales"
    ever = {(t, status) for t, status, _, _ in sales_rows(clean_warehouse)}
    assert {(t, everything[t].status_at(facts.world_end)) for t in undone & expected} <= ever


# ---------------------------------------------------------------- credentials and accounts


def test_a_wrong_client_secret_is_an_authentication_error_at_the_token_endpoint(sandbox, clean_warehouse) -> None:
    base_url, *_ = sandbox
    _, integration_id = registered(sandbox, clean_warehouse, client_secret="not-the-secret")
    clear_requests(base_url)
    with pytest.raises(AuthenticationError, match=r"^hotmart refused the credentials \(401\)") as raised:
        synced(clean_warehouse, integration_id, retry=RetryPolicy(max_retries=2))
    assert not raised.value.retryable and "not-the-secret" not in str(raised.value)
    assert [path for _, path, _ in calls(base_url)] == [TOKEN], "refused credentials are not retried"
    assert landed(clean_warehouse, "hotmart_sales") == {}


def test_a_wrong_basic_string_is_an_authentication_error_too(sandbox, clean_warehouse) -> None:
    other = accounts(sandbox)[1]["basic"]
    _, integration_id = registered(sandbox, clean_warehouse, basic=other)
    with pytest.raises(AuthenticationError, match=r"^hotmart refused the credentials \(401\)"):
        synced(clean_warehouse, integration_id)


def test_another_accounts_credentials_reach_none_of_the_sales_its_webhooks_named(sandbox, clean_warehouse) -> None:
    """The integration is account 0's (its webhooks land) but holds account 1's credential: Hotmart
    answers for the credential's account, so account 0's transactions are not in its history."""
    world = sandbox[3]
    mine, theirs = accounts(sandbox)
    _, integration_id = registered(
        sandbox,
        clean_warehouse,
        client_id=theirs["client_id"],
        client_secret=theirs["client_secret"],
        basic=theirs["basic"],
    )
    land_deliveries(clean_warehouse, integration_id, sent_to(world, mine), keyring=KEYRING)
    with pytest.raises(NotLinkedError, match=r"^hotmart: transaction HP\d+, known from .* another Hotmart account"):
        synced(clean_warehouse, integration_id)
    assert landed(clean_warehouse, "hotmart_sales") == {}


# ------------------------------------------------------------------------------------ webhooks


def test_every_delivery_verifies_with_its_accounts_hottok_and_parses_to_what_the_world_says(sandbox) -> None:
    world = sandbox[3]
    for account in accounts(sandbox):
        sent = sent_to(world, account)
        mine = sales_of(world, account)
        assert sent and {d.event_type for d in sent} >= {"PURCHASE_APPROVED", "PURCHASE_COMPLETE"}
        for delivery in sent:
            SCHEME.verify(account["webhook_secret"], delivery.headers, delivery.body)
            event = SCHEME.parse(delivery.body)
            [record] = event.records
            transaction = record.keys["transaction"]
            assert (event.event_id, event.event_type) == (delivery.event_id, delivery.event_type)
            assert event.occurred_at == delivery.sent_at.replace(
                microsecond=delivery.sent_at.microsecond // 1000 * 1000
            )
            assert transaction in mine and record.table == "hotmart_webhook_events"
            purchase = json.loads(delivery.body, parse_float=Decimal)["data"]["purchase"]
            assert purchase["price"]["value"] == mine[transaction].sale.gross


def test_each_delivery_lands_once_and_a_redelivery_lands_nothing(sandbox, clean_warehouse) -> None:
    account, integration_id = registered(sandbox, clean_warehouse)
    sent = sent_to(sandbox[3], account)
    first = land_deliveries(clean_warehouse, integration_id, sent, keyring=KEYRING)
    assert [(x.event_id, x.redelivery, x.rows_written) for x in first] == [(d.event_id, False, 1) for d in sent]
    again = land_deliveries(clean_warehouse, integration_id, sent[:5], keyring=KEYRING)
    assert all(x.redelivery and x.rows_written == 0 for x in again)
    with psycopg.connect(clean_warehouse) as conn:
        events = conn.execute("select count(*) from raw.hotmart_webhook_events").fetchone()[0]
        deliveries = conn.execute("select count(*) from ops.webhook_deliveries").fetchone()[0]
    # The inbox keeps one row per event (docs/webhook-sink.md): a redelivery adds no raw row and no inbox row.
    assert (events, deliveries) == (len(sent), len(sent))


def test_a_wrong_or_missing_hottok_is_refused_and_stores_nothing(sandbox, clean_warehouse) -> None:
    account, integration_id = registered(sandbox, clean_warehouse)
    delivery = sent_to(sandbox[3], account)[0]
    other = accounts(sandbox)[1]["webhook_secret"]
    cases = [
        ({**delivery.headers, HOTTOK_HEADER: other}, BadSignatureError),
        ({**delivery.headers, HOTTOK_HEADER: account["webhook_secret"][:-1]}, BadSignatureError),
        ({k: v for k, v in delivery.headers.items() if k != HOTTOK_HEADER}, MissingHeaderError),
    ]
    with psycopg.connect(clean_warehouse) as conn:
        for headers, error in cases:
            with pytest.raises(error):
                land(conn, integration_id, headers, delivery.query, delivery.body, keyring=KEYRING)
        stored = conn.execute("select count(*) from raw.hotmart_webhook_events").fetchone()[0]
        logged = conn.execute("select count(*) from ops.webhook_deliveries").fetchone()[0]
    assert (stored, logged) == (0, 0)
