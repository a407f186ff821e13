"""The sandbox's Asaas notifications against our webhook scheme, and landed into a real warehouse.

What "signed" means at Asaas: nothing is signed. The webhook's authentication token comes back
verbatim in `asaas-access-token` (docs.asaas.com "Criar novo Webhook pela aplicação web";
reference §4.1), with no HMAC of the body and no timestamp. So, honestly:

- a delivery with the wrong token, or none, is refused (BadSignatureError, MissingHeaderError);
- a body changed in transit with the right token *verifies*: there is nothing to detect it with
  (pinned below, so nobody mistakes the token for an integrity check);
- there is no "expired" delivery: no timestamp is sent, so no StaleTimestampError exists for Asaas
  and an old delivery verifies like a new one;
- a replayed delivery verifies too; what keeps it harmless is the event `id`, stable across Asaas's
  retries: landing it again writes no raw row and no second `ops.webhook_deliveries` row.

The deliveries are the sandbox's own (`sandbox.providers.asaas.webhooks.deliveries`), rendered
from the world's facts, for each store account of the tenant.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import psycopg
import pytest

from ingestion import integrations
from ingestion.vault import Keyring, new_key_spec
from ingestion.webhook_landing import land
from plugins.providers.asaas.webhook import EVENTS_TABLE, PAYMENTS_TABLE, TOKEN_HEADER, AsaasWebhook
from plugins.providers.errors import BadSignatureError, MissingHeaderError
from sandbox.core.webhooks import Delivery
from sandbox.providers.asaas.webhooks import EVENTS, deliveries
from sandbox.world import World

from ..served_clients import CONFIG

SCHEME = AsaasWebhook()
KEYRING = Keyring.parse(new_key_spec("asaas-webhooks"))
WORLD = World(CONFIG)
FACTS = WORLD.facts["asaas"]
TENANT = WORLD.credentials("")["tenants"][0]
ACCOUNTS = TENANT["asaas"]["accounts"]


def sent(account: dict) -> list[Delivery]:
    """Every notification of the account's payments the world sent before its as-of."""
    return deliveries(FACTS, account["name"], now=FACTS.as_of_moment)


def decimals(raw: bytes) -> dict:
    return json.loads(raw, parse_float=Decimal, parse_int=Decimal)


@pytest.mark.parametrize("index", range(len(ACCOUNTS)))
def test_every_delivery_verifies_with_the_accounts_token_and_parses(index: int) -> None:
    account = ACCOUNTS[index]
    payments = {p.payment_id: p for p in FACTS.payments_by_account[account["name"]]}
    everything = sent(account)
    assert len({d.event_id for d in everything}) == len(everything), "one id per (payment, event)"
    for delivery in everything:
        SCHEME.verify(account["webhook_secret"], delivery.headers, delivery.body)
        event = SCHEME.parse(delivery.body)
        assert (event.event_id, event.event_type) == (delivery.event_id, delivery.event_type)
        assert event.occurred_at == delivery.sent_at, "the envelope's dateCreated is when Asaas sent it"
        notification, payment = event.records
        assert (notification.table, notification.external_id) == (EVENTS_TABLE, delivery.event_id)
        assert bytes(notification.payload) == delivery.body
        p = payments[payment.external_id]
        assert payment.table == PAYMENTS_TABLE and notification.keys == {"payment_id": p.payment_id}
        assert payment.keys == {"external_reference": p.external_reference}
        body = decimals(bytes(payment.payload))
        assert (body["value"], body["netValue"]) == (p.value, p.net_value), "money to the cent"
    assert {d.event_type for d in everything} <= set(EVENTS)


def test_the_world_sends_every_event_type_the_sandbox_knows() -> None:
    types = Counter(d.event_type for account in ACCOUNTS for d in sent(account))
    assert set(types) == set(EVENTS), types


def test_a_wrong_or_missing_token_is_refused() -> None:
    delivery = sent(ACCOUNTS[0])[0]
    other = ACCOUNTS[1]["webhook_secret"]
    with pytest.raises(BadSignatureError):
        SCHEME.verify(other, delivery.headers, delivery.body)
    tampered = {**delivery.headers, TOKEN_HEADER: delivery.headers[TOKEN_HEADER][:-1] + "x"}
    with pytest.raises(BadSignatureError):
        SCHEME.verify(ACCOUNTS[0]["webhook_secret"], tampered, delivery.body)
    without = {k: v for k, v in delivery.headers.items() if k.lower() != TOKEN_HEADER}
    with pytest.raises(MissingHeaderError):
        SCHEME.verify(ACCOUNTS[0]["webhook_secret"], without, delivery.body)


def test_what_asaas_cannot_protect_verifies_a_changed_body_an_old_delivery_a_replay() -> None:
    """Asaas signs no body and sends no time: these verify; the event id makes a replay land once."""
    account = ACCOUNTS[0]
    first = sent(account)[0]
    changed = first.body.replace(b'"value":', b'"value":1', 1)
    assert changed != first.body
    SCHEME.verify(account["webhook_secret"], first.headers, changed)  # no signature to break
    SCHEME.verify(account["webhook_secret"], first.headers, first.body)  # old: no timestamp to expire
    again = [d for d in sent(account) if d.event_id == first.event_id]
    assert [d.body for d in again] == [first.body], "a redelivery is byte for byte the same, same id"


def _integration(conn: psycopg.Connection, account: dict) -> int:
    return integrations.add(
        conn,
        KEYRING,
        tenant_id=TENANT["tenant_id"],
        provider="asaas",
        credentials={"api_key": account["api_key"]},
        external_ids={"payout_documents": account["payout_documents"]},
        name=account["name"],
        webhook_secret=account["webhook_secret"],
    ).integration_id


def test_every_delivery_lands_once_at_the_time_asaas_sent_it(clean_warehouse: str) -> None:
    account = ACCOUNTS[0]
    everything = sent(account)
    with psycopg.connect(clean_warehouse) as conn:
        integration_id = _integration(conn, account)
        firsts = [
            land(conn, integration_id, d.headers, d.query, d.body, keyring=KEYRING, received_at=d.sent_at)
            for d in everything
        ]
        replays = [
            land(conn, integration_id, d.headers, d.query, d.body, keyring=KEYRING, received_at=d.sent_at)
            for d in everything
        ]
        assert not any(x.redelivery for x in firsts) and all(x.rows_written > 0 for x in firsts)
        assert all(x.redelivery and x.rows_written == 0 for x in replays), "a replay writes no raw row"

        events = conn.execute(
            f"select external_id, payment_id, received_at, source from raw.{EVENTS_TABLE} order by received_at"
        ).fetchall()
        assert sorted(e[0] for e in events) == sorted(d.event_id for d in everything), "each event once"
        sent_at = {d.event_id: d.sent_at for d in everything}
        assert all(received == sent_at[event_id] and source == "webhook" for event_id, _, received, source in events)

        versions = conn.execute(f"select external_id, payload from raw.{PAYMENTS_TABLE}").fetchall()
        notified = {
            p.payment_id for p in FACTS.payments_by_account[account["name"]] if p.created_at < FACTS.as_of_moment
        }
        assert {v[0] for v in versions} == notified, "every payment of the account, by its notifications"
        bodies = {json.loads(d.body)["payment"]["id"] for d in everything}
        assert bodies == notified
        # one row per distinct state of a payment: as many as the distinct payment objects notified
        distinct = {
            (json.loads(d.body)["payment"]["id"], json.dumps(json.loads(d.body)["payment"], sort_keys=True))
            for d in everything
        }
        assert len(versions) == len(distinct)

        recorded = conn.execute(
            "select event_id, event_type, occurred_at, received_at, rows_written from ops.webhook_deliveries "
            "where integration_id = %s order by delivery_id",
            (integration_id,),
        ).fetchall()
        assert [r[0] for r in recorded] == [d.event_id for d in everything], "one inbox row per event, replays none"
        assert all(r[2] == r[3] for r in recorded), "occurred (dateCreated) = received (sent_at) for Asaas"


def test_the_other_accounts_token_does_not_land_anything(clean_warehouse: str) -> None:
    delivery = sent(ACCOUNTS[1])[0]
    with psycopg.connect(clean_warehouse) as conn:
        integration_id = _integration(conn, ACCOUNTS[0])
        with pytest.raises(BadSignatureError):
            land(
                conn, integration_id, delivery.headers, {}, delivery.body, keyring=KEYRING, received_at=delivery.sent_at
            )
        assert conn.execute(f"select count(*) from raw.{EVENTS_TABLE}").fetchone()[0] == 0
        assert conn.execute("select count(*) from ops.webhook_deliveries").fetchone()[0] == 0


def test_rendered_at_an_earlier_moment_the_same_events_keep_their_ids_and_bytes() -> None:
    """What the world sent by mid-world is a prefix of what it sent by the as-of: a redelivery of an
    event carries the id and the bytes it had, so the warehouse dedupes it."""
    everything = sent(ACCOUNTS[0])
    middle = everything[len(everything) // 2].sent_at
    assert deliveries(FACTS, ACCOUNTS[0]["name"], now=middle) == [d for d in everything if d.sent_at < middle]
