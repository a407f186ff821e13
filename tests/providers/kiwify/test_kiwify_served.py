"""Kiwify's client and provider against the served sandbox over real sockets: the world's facts, exactly.

The client (`plugins/providers/kiwify/`) and the sandbox (`sandbox/providers/kiwify/`) were written
apart from the same facts (reference §7). A sync of an interval lands exactly the sales the world
created in it (each with its status at the world's end: the sandbox answers as of then) and the
payouts Kiwify made in it, money equal to the world's facts to the cent (integer centavos). Sales
created before the interval come back by id when ingestion names them (`known_ids`): a webhook
delivered in the interval (a refund or chargeback of a sale that looked final re-opens it that
day), or a status that is not final.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qsl

import psycopg
import pytest

from ingestion import integrations
from ingestion.sync import run_sync
from ingestion.vault import Keyring, new_key_spec
from ingestion.webhook_landing import land
from plugins.providers.base import Interval
from plugins.providers.errors import AuthenticationError, BadSignatureError, MissingHeaderError, NotLinkedError
from plugins.providers.kiwify.webhook import KiwifyWebhook
from plugins.providers.transport import RetryPolicy, TransportOptions
from sandbox.options import ServerOptions
from sandbox.providers.kiwify.facts import KiwifyFacts
from sandbox.providers.kiwify.webhooks import deliveries
from sandbox.server import start_in_thread
from sandbox.world import World

from ..served_clients import CONFIG, FIRST, LAST, Sleeps, clear_requests, requests_log, without_faults

KEYRING = Keyring.parse(new_key_spec("kiwify-served"))
WORLD_DAYS = Interval.for_dates(FIRST, LAST)
SCHEME = KiwifyWebhook()
TOKEN = "/kiwify/v1/oauth/token"
SALES = "/kiwify/v1/sales"


@pytest.fixture(scope="module")
def sandbox():
    """The clients' world, served without the sandbox's 100 calls a minute (Kiwify publishes no
    limit; the transport's waits are not spent here, 429 handling is the fault suite's)."""
    world = World(CONFIG)
    base_url, stop = start_in_thread(world, port=0, options=ServerOptions().with_rate_limit(None))
    creds = world.credentials(base_url)
    yield base_url, creds["base_urls"], creds["tenants"][0], world
    stop()


@pytest.fixture(autouse=True)
def no_faults(sandbox):
    yield from without_faults(sandbox[0])


def facts_of(sandbox) -> KiwifyFacts:
    return sandbox[3].facts["kiwify"]


def accounts(sandbox) -> list[dict]:
    return sandbox[2]["kiwify"]["accounts"]


def registered(sandbox, url: str, index: int = 0, **credentials: str) -> tuple[dict, int]:
    _, urls, tenant, _ = sandbox
    account = accounts(sandbox)[index]
    given = {f: account[f] for f in ("client_id", "client_secret", "account_id")} | credentials
    with psycopg.connect(url) as conn:
        integration = integrations.add(
            conn,
            KEYRING,
            tenant_id=tenant["tenant_id"],
            provider="kiwify",
            name=account["name"],
            credentials=given,
            external_ids={"payout_documents": list(account["payout_documents"])},
            base_url=urls["kiwify"],
            webhook_secret=account["webhook_secret"],
        )
    return account, integration.integration_id


def synced(url: str, integration_id: int, interval: Interval = WORLD_DAYS, **transport):
    return run_sync(
        url, integration_id, interval, keyring=KEYRING, transport=TransportOptions(sleep=Sleeps(), **transport)
    )


def sent_to(sandbox, account: dict):
    facts = facts_of(sandbox)
    return deliveries(facts, account["name"], now=facts.world_end)


def created_in(sandbox, account: dict, interval: Interval) -> dict:
    facts = facts_of(sandbox)
    return {
        k.id: k
        for k in facts.sales_by_account[account["name"]]
        if k.status_at(facts.world_end) is not None and interval.start <= k.sale.created_at < interval.end
    }


def rows(url: str, table: str) -> dict[str, dict]:
    with psycopg.connect(url) as conn:
        found = conn.execute(f"select external_id, payload::text from raw.{table} where source = 'api'").fetchall()
    out = {i: json.loads(text) for i, text in found}
    assert len(out) == len(found), f"an object landed twice in {table}"
    return out


def calls(base_url: str) -> list[tuple[str, str, dict]]:
    return [
        (e["method"], e["path"], dict(parse_qsl(e["query"] or "")))
        for e in requests_log(base_url)
        if e["path"].startswith("/kiwify/")
    ]


# ------------------------------------------------------------------------------- whole syncs


@pytest.mark.parametrize("index", [0, 1])
def test_a_sync_lands_exactly_the_sales_created_and_the_payouts_made_in_the_interval(
    sandbox, clean_warehouse, index: int
) -> None:
    base_url = sandbox[0]
    facts = facts_of(sandbox)
    account, integration_id = registered(sandbox, clean_warehouse, index)
    expected = created_in(sandbox, account, WORLD_DAYS)
    payouts = {
        x.id: x for x in facts.payouts_by_account[account["name"]] if WORLD_DAYS.start <= x.created_at < WORLD_DAYS.end
    }
    payments = {p.payment_id: p for p in facts.payments}
    assert len(expected) > 20 and payouts
    clear_requests(base_url)

    result = synced(clean_warehouse, integration_id)

    assert result.rows_by_table == {
        "kiwify_sales": {"fetched": len(expected), "written": len(expected)},
        "kiwify_payouts": {"fetched": len(payouts), "written": len(payouts)},
    }
    sales = rows(clean_warehouse, "kiwify_sales")
    assert set(sales) == set(expected)
    for sale_id, sale in sales.items():
        k, payment = expected[sale_id], payments[sale_id]
        assert sale["status"] == k.status_at(facts.world_end)
        money = sale["payment"]
        assert Decimal(money["charge_amount"]) / 100 == payment.gross, "gross in centavos, exact"
        assert Decimal(money["fee"]) / 100 == payment.fee
        assert Decimal(money["net_amount"]) / 100 == payment.stated_net
        affiliate = sale.get("affiliate_commission") or {"amount": 0}
        assert Decimal(affiliate["amount"]) / 100 == payment.affiliate_commission
        partners = [p for p in sale["revenue_partners"] or [] if p["account_id"] != account["account_id"]]
        assert sum((Decimal(p["net_amount_split"]) for p in partners), Decimal(0)) / 100 == (
            payment.coproducer_commission
        )
    landed_payouts = rows(clean_warehouse, "kiwify_payouts")
    assert set(landed_payouts) == set(payouts)
    for payout_id, payout in landed_payouts.items():
        assert Decimal(payout["amount"]) / 100 == payouts[payout_id].amount

    made = calls(base_url)
    assert [c for c in made if c[1] == TOKEN] == [("POST", TOKEN, {})], "one token per sync, nothing in its URL"
    windows = [q for _, path, q in made if path == SALES]
    assert windows and all(q["view_full_sale_details"] == "true" and q["page_size"] == "100" for q in windows)
    assert (windows[0]["start_date"], windows[-1]["end_date"]) == (
        (FIRST - timedelta(days=1)).isoformat(),
        (LAST + timedelta(days=1)).isoformat(),
    ), "the interval's São Paulo dates, widened by a day each side"
    assert not [p for _, p, _ in made if p.startswith(SALES + "/")], "nothing known: no sale read by id"


def test_a_few_days_land_exactly_the_sales_created_in_them(sandbox, clean_warehouse) -> None:
    account, integration_id = registered(sandbox, clean_warehouse)
    days = Interval.for_dates(FIRST + timedelta(days=3), FIRST + timedelta(days=5))
    expected = created_in(sandbox, account, days)
    assert expected and len(expected) < len(created_in(sandbox, account, WORLD_DAYS))
    synced(clean_warehouse, integration_id, days)
    assert set(rows(clean_warehouse, "kiwify_sales")) == set(expected)


def test_day_by_day_with_webhooks_a_refund_or_chargeback_after_the_sales_day_is_re_read_by_id(
    sandbox, clean_warehouse
) -> None:
    """Each day the webhooks Kiwify sent by the day's end land, then the day is synced. A sale
    created on an earlier day that a webhook names today is read by id today, once; at the end every
    sale lands with its status at the world's end and every refund and chargeback is in raw."""
    base_url = sandbox[0]
    facts = facts_of(sandbox)
    account, integration_id = registered(sandbox, clean_warehouse)
    sent = sent_to(sandbox, account)
    by_id_reads = Counter()
    day = FIRST
    while day <= LAST:
        interval = Interval.for_dates(day, day)
        with psycopg.connect(clean_warehouse) as conn:
            for d in sent:
                if (day == FIRST or interval.start <= d.sent_at) and d.sent_at < interval.end:
                    land(conn, integration_id, d.headers, d.query, d.body, keyring=KEYRING, received_at=d.sent_at)
        clear_requests(base_url)
        synced(clean_warehouse, integration_id, interval)
        made = calls(base_url)
        assert sum(1 for c in made if c[1] == TOKEN) == 1
        read = [p.removeprefix(SALES + "/") for _, p, _ in made if p.startswith(SALES + "/")]
        assert len(read) == len(set(read))
        by_id_reads.update(read)
        day += timedelta(days=1)
    everything = {k.id: k for k in facts.sales_by_account[account["name"]]}
    notified = {json.loads(d.body)["order_id"] for d in sent if d.sent_at < WORLD_DAYS.end}
    expected = set(created_in(sandbox, account, WORLD_DAYS)) | notified
    with psycopg.connect(clean_warehouse) as conn:
        landed = conn.execute(
            "select distinct on (external_id) external_id, status from raw.kiwify_sales order by external_id, loaded_at desc"
        ).fetchall()
    assert dict(landed) == {i: everything[i].status_at(facts.world_end) for i in expected}
    undone = {i for i in expected if everything[i].status_at(facts.world_end) in ("refunded", "chargedback")}
    late = {i for i in undone if everything[i].sale.created_at.date() < everything[i].sale.undone_at.date()}
    assert late, "some refunds or chargebacks come on a later day than the sale"
    assert late <= set(by_id_reads), "a refund or chargeback notified on a later day is read by id that day"


# ---------------------------------------------------------------- credentials and accounts


def test_a_wrong_client_secret_is_an_authentication_error_at_the_token_endpoint(sandbox, clean_warehouse) -> None:
    base_url = sandbox[0]
    _, integration_id = registered(sandbox, clean_warehouse, client_secret="not-the-secret")
    clear_requests(base_url)
    with pytest.raises(AuthenticationError, match=r"^kiwify refused the credentials \(401\)") as raised:
        synced(clean_warehouse, integration_id, retry=RetryPolicy(max_retries=2))
    assert not raised.value.retryable and "not-the-secret" not in str(raised.value)
    assert [p for _, p, _ in calls(base_url)] == [TOKEN]
    assert rows(clean_warehouse, "kiwify_sales") == {}


def test_an_account_id_the_key_does_not_serve_is_not_linked(sandbox, clean_warehouse) -> None:
    other = accounts(sandbox)[1]["account_id"]
    _, integration_id = registered(sandbox, clean_warehouse, account_id=other)
    with pytest.raises(NotLinkedError, match=rf"^kiwify: account {other} is not reachable with these credentials"):
        synced(clean_warehouse, integration_id)
    assert rows(clean_warehouse, "kiwify_sales") == {}


def test_another_accounts_sale_named_by_a_webhook_is_not_linked(sandbox, clean_warehouse) -> None:
    """Account 1's integration given a notification of account 0's sale (signed with account 1's
    token, as a misrouted webhook would verify): Kiwify answers 404 for another account's sale."""
    mine, theirs = accounts(sandbox)
    _, integration_id = registered(sandbox, clean_warehouse, 1)
    delivery = sent_to(sandbox, mine)[0]
    signature = hmac.new(theirs["webhook_secret"].encode(), delivery.body, hashlib.sha1).hexdigest()
    with psycopg.connect(clean_warehouse) as conn:
        land(conn, integration_id, delivery.headers, {"signature": signature}, delivery.body, keyring=KEYRING)
    with pytest.raises(NotLinkedError, match=r"^kiwify: sale \S+ is not reachable with account"):
        synced(clean_warehouse, integration_id)


# ------------------------------------------------------------------------------------ webhooks


def test_every_delivery_verifies_with_its_accounts_token_and_parses_to_what_the_world_says(sandbox) -> None:
    facts = facts_of(sandbox)
    for account in accounts(sandbox):
        sent = sent_to(sandbox, account)
        assert {"order_approved", "order_refunded"} <= {d.event_type for d in sent}
        for delivery in sent:
            SCHEME.verify(account["webhook_secret"], delivery.headers, delivery.body, query=delivery.query)
            event = SCHEME.parse(delivery.body)
            [record] = event.records
            order = record.keys["order_id"]
            assert (event.event_id, event.event_type) == (delivery.event_id, delivery.event_type)
            assert event.occurred_at is not None and abs(event.occurred_at - delivery.sent_at) < timedelta(minutes=1)
            body = json.loads(delivery.body)
            payment = next(p for p in facts.payments if p.payment_id == order)
            assert Decimal(body["Commissions"]["charge_amount"]) / 100 == payment.gross


def test_each_delivery_lands_once_and_a_redelivery_lands_nothing(sandbox, clean_warehouse) -> None:
    account, integration_id = registered(sandbox, clean_warehouse)
    sent = sent_to(sandbox, account)
    with psycopg.connect(clean_warehouse) as conn:
        first = [land(conn, integration_id, d.headers, d.query, d.body, keyring=KEYRING) for d in sent]
        again = [land(conn, integration_id, d.headers, d.query, d.body, keyring=KEYRING) for d in sent[:5]]
        events = conn.execute("select count(*) from raw.kiwify_webhook_events").fetchone()[0]
    assert all(not x.redelivery and x.rows_written == 1 for x in first)
    assert all(x.redelivery and x.rows_written == 0 for x in again)
    assert events == len(sent)


def test_a_tampered_body_a_wrong_token_or_no_signature_is_refused_and_stores_nothing(sandbox, clean_warehouse) -> None:
    account, integration_id = registered(sandbox, clean_warehouse)
    delivery = sent_to(sandbox, account)[0]
    tampered = delivery.body.replace(b'"order_status":"', b'"order_status":"x')
    assert tampered != delivery.body
    other = accounts(sandbox)[1]
    cases = [
        (delivery.query, tampered, BadSignatureError),
        ({"signature": sent_to(sandbox, other)[0].query["signature"]}, delivery.body, BadSignatureError),
        ({}, delivery.body, MissingHeaderError),
    ]
    with psycopg.connect(clean_warehouse) as conn:
        for query, body, error in cases:
            with pytest.raises(error):
                land(conn, integration_id, delivery.headers, query, body, keyring=KEYRING)
        stored = conn.execute("select count(*) from raw.kiwify_webhook_events").fetchone()[0]
    assert stored == 0
