"""The sandbox's signed Stripe deliveries against the client's scheme, and landed in a real warehouse.

`sandbox/providers/stripe/webhooks.py` signs each event as Stripe does (`Stripe-Signature:
t=…,v1=…` over `"{t}.{body}"` with the account's `whsec_` secret); `plugins/providers/stripe/
webhook.py` verifies and parses them. Every delivery of the world must verify and parse into the
event and its object, with the world's ids and cents; a tampered body or signature, another
account's secret, a delivery past the 300 s tolerance (expired, or replayed later) must not. Landed
through `ingestion.webhook_landing.land`, each event lands once, however often it is delivered.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg
import pytest

from ingestion import integrations
from ingestion.vault import Keyring, new_key_spec
from ingestion.webhook_landing import land
from plugins.providers.errors import BadSignatureError, StaleTimestampError
from plugins.providers.stripe import records
from plugins.providers.stripe.webhook import SIGNATURE_HEADER, StripeWebhook
from sandbox.core.webhooks import Delivery
from sandbox.providers.stripe.webhooks import deliveries

from .conftest import StripeSandbox

KEYRING = Keyring.parse(new_key_spec("stripe-webhooks"))
SIGNED = datetime(2026, 10, 12, 9, 30, tzinfo=UTC)  # when the sandbox signs (any moment will do)
TABLE_OF = {kind: records.LANDINGS[kind].table for kind in ("charge", "refund", "dispute", "payout")}


def scheme_at(moment: datetime) -> StripeWebhook:
    return StripeWebhook(now=lambda: moment)


def signed(sandbox: StripeSandbox, account: int, at: datetime = SIGNED) -> list[Delivery]:
    return deliveries(sandbox.facts, sandbox.accounts[account]["name"], now=at)


def secret(sandbox: StripeSandbox, account: int) -> str:
    return sandbox.accounts[account]["webhook_secret"]


@pytest.mark.parametrize("account", [0, 1])
def test_every_delivery_verifies_and_parses_into_the_worlds_objects(
    stripe_sandbox: StripeSandbox, account: int
) -> None:
    facts = stripe_sandbox.facts
    sent = signed(stripe_sandbox, account)
    scheme = scheme_at(SIGNED)
    assert Counter(d.event_type for d in sent).keys() == {
        "payment_intent.succeeded",
        "charge.succeeded",
        "charge.failed",
        "charge.refunded",
        "charge.dispute.created",
        "payout.created",
        "payout.paid",
    } | ({"charge.dispute.closed"} if any(c.dispute and c.dispute.closed_at for c in facts.charges) else set())
    for delivery in sent:
        scheme.verify(secret(stripe_sandbox, account), delivery.headers, delivery.body)
        event = scheme.parse(delivery.body)
        assert (event.event_id, event.event_type) == (delivery.event_id, delivery.event_type)
        body = msgspec.json.decode(delivery.body)
        assert event.occurred_at == datetime.fromtimestamp(body["created"], UTC)
        landed = {(r.table, r.external_id): r for r in event.records}
        assert landed[(records.EVENTS_TABLE, delivery.event_id)].keys == {"type": delivery.event_type}
        obj: dict[str, Any] = body["data"]["object"]
        if obj["object"] not in TABLE_OF:  # a payment intent: the event alone lands
            assert len(landed) == 1
            continue
        record = landed[(TABLE_OF[obj["object"]], obj["id"])]
        assert msgspec.json.decode(bytes(record.payload)) == obj  # type: ignore[arg-type]
        if obj["object"] == "charge":
            assert obj["amount"] == facts.charge_by_id[obj["id"]].amount
        elif obj["object"] == "payout":
            assert obj["amount"] == facts.payout_by_id[obj["id"]].amount
        elif obj["object"] == "dispute":
            assert obj["amount"] == facts.charge_by_id[obj["charge"]].amount


def _tampered(delivery: Delivery, how: str) -> tuple[dict[str, str], bytes]:
    headers, body = dict(delivery.headers), delivery.body
    if how == "body":
        body = body.replace(b'"amount": ', b'"amount": 1', 1)
    elif how == "signature":
        stamp, _, signature = headers[SIGNATURE_HEADER].partition(",v1=")
        headers[SIGNATURE_HEADER] = f"{stamp},v1={signature[::-1]}"
    elif how == "timestamp":  # the same signature under a later time: a replay dressed up as fresh
        stamp, _, signature = headers[SIGNATURE_HEADER].partition(",v1=")
        headers[SIGNATURE_HEADER] = f"t={int(stamp[2:]) + 60},v1={signature}"
    return headers, body


@pytest.mark.parametrize("how", ["body", "signature", "timestamp"])
def test_a_tampered_delivery_does_not_verify(stripe_sandbox: StripeSandbox, how: str) -> None:
    delivery = next(d for d in signed(stripe_sandbox, 0) if d.event_type == "charge.succeeded")
    headers, body = _tampered(delivery, how)
    with pytest.raises(BadSignatureError):
        scheme_at(SIGNED).verify(secret(stripe_sandbox, 0), headers, body)


def test_another_accounts_secret_does_not_verify(stripe_sandbox: StripeSandbox) -> None:
    delivery = signed(stripe_sandbox, 0)[0]
    with pytest.raises(BadSignatureError):
        scheme_at(SIGNED).verify(secret(stripe_sandbox, 1), delivery.headers, delivery.body)


@pytest.mark.parametrize(
    ("received", "stale"),
    [
        (SIGNED + timedelta(seconds=299), False),
        (SIGNED + timedelta(seconds=301), True),  # expired, or replayed after the tolerance
        (SIGNED + timedelta(days=1), True),  # replayed a day later
        (SIGNED - timedelta(seconds=301), True),  # signed in the future: a clock wrong on one side
    ],
)
def test_a_delivery_is_taken_within_the_tolerance_only(
    stripe_sandbox: StripeSandbox, received: datetime, stale: bool
) -> None:
    delivery = signed(stripe_sandbox, 0)[0]
    verify = scheme_at(received).verify
    if stale:
        with pytest.raises(StaleTimestampError):
            verify(secret(stripe_sandbox, 0), delivery.headers, delivery.body)
    else:
        verify(secret(stripe_sandbox, 0), delivery.headers, delivery.body)


def _register(conn: psycopg.Connection, sandbox: StripeSandbox, account: int) -> int:
    entry = sandbox.accounts[account]
    return integrations.add(
        conn,
        KEYRING,
        tenant_id="tenant-001",
        provider="stripe",
        name=entry["name"],
        credentials={"secret_key": entry["secret_key"]},
        external_ids={"payout_documents": entry["payout_documents"]},
        webhook_secret=entry["webhook_secret"],
    ).integration_id


def test_deliveries_land_once_each_through_the_webhook_landing(
    stripe_sandbox: StripeSandbox, clean_warehouse: str
) -> None:
    sent = signed(stripe_sandbox, 0, datetime.fromtimestamp(time.time(), UTC))  # land() verifies on the wall clock
    objects = {
        (TABLE_OF[obj["object"]], obj["id"], json.dumps(obj, sort_keys=True))
        for obj in (msgspec.json.decode(d.body)["data"]["object"] for d in sent)
        if obj["object"] in TABLE_OF
    }
    with psycopg.connect(clean_warehouse) as conn:
        integration_id = _register(conn, stripe_sandbox, 0)
        headers, body = _tampered(sent[0], "body")
        with pytest.raises(BadSignatureError):
            land(conn, integration_id, headers, {}, body, keyring=KEYRING)
        first = [
            land(conn, integration_id, d.headers, {}, d.body, keyring=KEYRING, received_at=d.sent_at) for d in sent
        ]
        again = [
            land(conn, integration_id, d.headers, {}, d.body, keyring=KEYRING, received_at=d.sent_at) for d in sent
        ]
        events = conn.execute("select external_id, type, source from raw.stripe_events").fetchall()
        landed = {
            table: conn.execute(f"select external_id, payload from raw.{table}").fetchall()
            for table in TABLE_OF.values()
        }
        delivered = conn.execute("select count(*), sum(rows_written) from ops.webhook_deliveries").fetchone()
    assert not any(a.redelivery for a in first) and all(a.redelivery and a.rows_written == 0 for a in again)
    assert sorted(events) == sorted((d.event_id, d.event_type, "webhook") for d in sent), "each event once"
    assert len(events) == len({d.event_id for d in sent}) == len(sent)
    as_landed = {
        (table, ident, json.dumps(payload, sort_keys=True)) for table, rows in landed.items() for ident, payload in rows
    }
    assert as_landed == objects, "every snapshot of every object once"
    assert sum(len(rows) for rows in landed.values()) == len(objects)
    assert delivered == (len(sent), len(sent) + len(objects)), "one inbox row per event, redeliveries none"
    facts = stripe_sandbox.facts
    assert {i for i, _ in landed["stripe_charges"]} <= set(facts.charge_by_id)
    assert {i for i, _ in landed["stripe_payouts"]} <= set(facts.payout_by_id)
