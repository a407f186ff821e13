"""PushinPay's notifications as the sandbox sends them, verified and parsed by the client's scheme, landed once.

The sandbox's deliveries (`sandbox/providers/pushinpay/webhooks.py`) and the client's scheme
(`plugins/providers/pushinpay/webhook.py`) were written apart from the same facts: a static token
the merchant sets in PushinPay's panel, sent back in `x-pushinpay-token` (third-party consensus,
reference §5.2), no HMAC and no timestamp (none found, reference §8), a body of `{id, status,
value, end_to_end_id, payer_name, payer_national_registration}`, JSON or form-encoded.

What the scheme can refuse is therefore a missing or wrong token. What it cannot, and these tests
say so rather than pretend: a body altered by someone holding the token (nothing signs the
body: it verifies, lands as sent, and the sync's re-read from PushinPay's API lands PushinPay's own
version after it), and an old delivery replayed (nothing dates it: it verifies, and is recognised
by its event id, `id:status`, so it stores nothing: `ops.webhook_deliveries` keeps one row per event).
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
from plugins.providers.errors import BadSignatureError, MissingHeaderError
from plugins.providers.pushinpay.records import reais
from plugins.providers.pushinpay.webhook import TOKEN_HEADER, PushinPayWebhook
from plugins.providers.transport import TransportOptions

from ..served_clients import FIRST, LAST, Sleeps, serve_world
from .served import add_integration, facts_of, land_deliveries, sent_to

KEYRING = Keyring.parse(new_key_spec("pushinpay-webhooks"))
SCHEME = PushinPayWebhook()
ENCODINGS = ("json", "form")


@pytest.fixture(scope="module")
def sandbox():
    yield from serve_world()


def accounts(sandbox) -> list[dict]:
    return sandbox[2]["pushinpay"]["accounts"]


def registered(sandbox, url: str, index: int = 0) -> tuple[dict, int]:
    _, urls, tenant, _ = sandbox
    account = accounts(sandbox)[index]
    return account, add_integration(url, KEYRING, tenant["tenant_id"], account, urls["pushinpay"])


def raw_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"select count(*) from raw.{table}").fetchone()[0]
            for table in ("pushinpay_webhook_events", "pushinpay_transactions")
        } | {"deliveries": conn.execute("select count(*) from ops.webhook_deliveries").fetchone()[0]}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_delivery_verifies_with_its_accounts_token_and_parses_to_what_the_world_says(
    sandbox, encoding: str
) -> None:
    world = sandbox[3]
    facts = facts_of(world)
    for account in accounts(sandbox):
        sent = sent_to(world, account, encoding)
        assert sent and {d.event_type for d in sent} <= {"paid", "refunded", "canceled"}
        for delivery in sent:
            SCHEME.verify(account["webhook_secret"], delivery.headers, delivery.body)
            event = SCHEME.parse(delivery.body)
            charge = facts.charge_by_id[delivery.event_id.split(":")[0]]
            assert (event.event_id, event.event_type, event.occurred_at) == (
                delivery.event_id,
                delivery.event_type,
                None,
            )
            [notice, transaction] = event.records
            assert (notice.table, notice.keys) == ("pushinpay_webhook_events", {"transaction_id": charge.id})
            assert (transaction.table, transaction.external_id, transaction.keys) == (
                "pushinpay_transactions",
                charge.id,
                {"status": delivery.event_type},
            )
            fields = json.loads(delivery.body) if encoding == "json" else transaction.payload
            assert reais(fields["value"]) == Decimal(charge.value) / 100, "centavos, exact"


def test_a_wrong_or_missing_token_is_refused_and_stores_nothing(sandbox, clean_warehouse) -> None:
    account, integration_id = registered(sandbox, clean_warehouse)
    delivery = sent_to(sandbox[3], account)[0]
    other = accounts(sandbox)[1]["webhook_secret"]
    cases = [
        ({**delivery.headers, TOKEN_HEADER: other}, BadSignatureError),  # another account's token
        ({**delivery.headers, TOKEN_HEADER: account["webhook_secret"][:-1]}, BadSignatureError),  # tampered
        ({k: v for k, v in delivery.headers.items() if k != TOKEN_HEADER}, MissingHeaderError),
    ]
    with psycopg.connect(clean_warehouse) as conn:
        for headers, error in cases:
            with pytest.raises(error):
                land(conn, integration_id, headers, delivery.query, delivery.body, keyring=KEYRING)
    assert raw_counts(clean_warehouse) == {"pushinpay_webhook_events": 0, "pushinpay_transactions": 0, "deliveries": 0}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_delivery_lands_once_received_when_pushinpay_sent_it_and_a_redelivery_lands_nothing(
    sandbox, clean_warehouse, encoding: str
) -> None:
    account, integration_id = registered(sandbox, clean_warehouse)
    sent = sent_to(sandbox[3], account, encoding)
    first = land_deliveries(clean_warehouse, integration_id, sent, keyring=KEYRING)
    assert [(x.event_id, x.redelivery, x.rows_written) for x in first] == [(d.event_id, False, 2) for d in sent]
    with psycopg.connect(clean_warehouse) as conn:
        events = conn.execute(
            "select external_id, received_at, source, sync_run_id from raw.pushinpay_webhook_events"
        ).fetchall()
        statuses = Counter(
            status for (status,) in conn.execute("select status from raw.pushinpay_transactions").fetchall()
        )
        form_values = conn.execute(
            "select count(*) from raw.pushinpay_transactions where jsonb_typeof(payload -> 'value') = 'string'"
        ).fetchone()[0]
    assert sorted(events) == sorted((d.event_id, d.sent_at, "webhook", None) for d in sent)
    assert statuses == Counter(d.event_type for d in sent), "one transaction row per status PushinPay notified"
    assert form_values == (len(sent) if encoding == "form" else 0), "a form lands as the object of its strings"

    before = raw_counts(clean_warehouse)
    again = land_deliveries(clean_warehouse, integration_id, sent, keyring=KEYRING)
    assert all(x.redelivery and x.rows_written == 0 for x in again)
    assert raw_counts(clean_warehouse) == before, "a redelivery adds no raw row and no inbox row"


def test_a_delivery_replayed_long_after_verifies_for_nothing_dates_it_and_lands_nothing_new(
    sandbox, clean_warehouse
) -> None:
    account, integration_id = registered(sandbox, clean_warehouse)
    delivery = sent_to(sandbox[3], account)[0]
    land_deliveries(clean_warehouse, integration_id, [delivery], keyring=KEYRING)
    later = delivery.sent_at + timedelta(days=365)
    with psycopg.connect(clean_warehouse) as conn:
        replay = land(
            conn, integration_id, delivery.headers, delivery.query, delivery.body, keyring=KEYRING, received_at=later
        )
    assert replay.redelivery and replay.rows_written == 0


def test_a_body_altered_by_a_token_holder_lands_as_sent_and_the_sync_lands_pushinpays_own_after_it(
    sandbox, clean_warehouse
) -> None:
    """Nothing signs the body, so the scheme cannot refuse it; the sync's re-read by id (the
    transaction was first seen in the synced days) lands PushinPay's answer, the latest version."""
    account, integration_id = registered(sandbox, clean_warehouse)
    delivery = next(d for d in sent_to(sandbox[3], account) if d.event_type == "paid")
    altered = json.loads(delivery.body) | {"value": 1}
    body = json.dumps(altered).encode()
    SCHEME.verify(account["webhook_secret"], delivery.headers, body)
    with psycopg.connect(clean_warehouse) as conn:
        land(
            conn, integration_id, delivery.headers, delivery.query, body, keyring=KEYRING, received_at=delivery.sent_at
        )
    run_sync(
        clean_warehouse,
        integration_id,
        Interval.for_dates(FIRST, LAST),
        keyring=KEYRING,
        transport=TransportOptions(sleep=Sleeps()),
    )
    with psycopg.connect(clean_warehouse) as conn:
        versions = conn.execute(
            "select source, payload ->> 'value' from raw.pushinpay_transactions where external_id = %s "
            "order by loaded_at",
            (altered["id"],),
        ).fetchall()
    charge = facts_of(sandbox[3]).charge_by_id[altered["id"]]
    assert versions == [("webhook", "1"), ("api", str(charge.value))]
