"""ingestion/webhook_landing.py against real PostgreSQL: verify, store once, process, land once.

Pluggy's and PushinPay's notifications are landed through their integrations (secrets sealed in
the vault, as `integrations add` stores them). A request that does not authenticate stores nothing
at all; an authentic body that is not the documented shape is kept in the dead-letter queue; a
redelivery stores nothing (the inbox holds one row per event).
"""

from __future__ import annotations

import json

import psycopg
import pytest

from ingestion import integrations
from ingestion.vault import Keyring, new_key_spec
from ingestion.webhook_landing import WebhookTargetError, land
from plugins.providers.errors import BadSignatureError, MissingHeaderError, WebhookPayloadError

KEYRING = Keyring.parse(new_key_spec("landing"))
PUSHINPAY_TOKEN = "whk-pushinpay-landing-7d2e"
PLUGGY_SECRET = "whk-pluggy-landing-91ab"
TX = "9c29870c-9f69-4bb6-90d3-2dce9453bb45"
PAID = json.dumps({"id": TX, "status": "paid", "value": 1005, "end_to_end_id": "E1823", "payer_name": "Ana"}).encode()
REFUNDED = json.dumps({"id": TX, "status": "refunded", "value": 1005}).encode()
PLUGGY_EVENT = json.dumps(
    {"event": "item/updated", "eventId": "evt-1", "itemId": "item-1", "triggeredBy": "SYNC"}
).encode()


def _integration(conn: psycopg.Connection, provider: str, *, secret: str | None, tenant: str = "tenant-a") -> int:
    fields = {
        "pushinpay": ({"token": "123|abcDEF456"}, {"payout_documents": ["11222333000181"]}),
        "pluggy": ({"client_id": "cid", "client_secret": "cs"}, {"item_ids": ["item-1"]}),
        "ifood": ({"client_id": "cid", "client_secret": "cs"}, {"merchant_ids": ["m-1"]}),
    }[provider]
    return integrations.add(
        conn,
        KEYRING,
        tenant_id=tenant,
        provider=provider,
        credentials=fields[0],
        external_ids=fields[1],
        webhook_secret=secret,
    ).integration_id


def _rows(conn: psycopg.Connection, table: str, key: str) -> list[tuple]:
    return conn.execute(
        f"select tenant_id, integration_id, sync_run_id, source, external_id, {key} from raw.{table} order by 5, 6"
    ).fetchall()


def _deliveries(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select integration_id, provider, event_id, event_type, occurred_at, rows_written, status, attempts "
        "from ops.webhook_deliveries order by delivery_id"
    ).fetchall()


def test_a_pushinpay_payment_lands_its_event_and_transaction_once(clean_warehouse: str) -> None:
    headers = {"Content-Type": "application/json", "X-PushinPay-Token": PUSHINPAY_TOKEN}
    with psycopg.connect(clean_warehouse) as conn:
        iid = _integration(conn, "pushinpay", secret=PUSHINPAY_TOKEN)
        first = land(conn, iid, headers, {}, PAID, keyring=KEYRING)
        again = land(conn, iid, headers, {}, PAID, keyring=KEYRING)
        form = f"id={TX.upper()}&status=paid&value=1005".encode()  # re-encoded: the same event all the same
        re_encoded = land(conn, iid, {"x-pushinpay-token": PUSHINPAY_TOKEN}, {}, form, keyring=KEYRING)
        refund = land(conn, iid, headers, {}, REFUNDED, keyring=KEYRING)
        events = _rows(conn, "pushinpay_webhook_events", "transaction_id")
        transactions = _rows(conn, "pushinpay_transactions", "status")
        deliveries = _deliveries(conn)
        landed = conn.execute("select payload ->> 'payer_name' from raw.pushinpay_transactions").fetchall()
    assert (first.rows_written, first.redelivery) == (2, False)
    assert first.rows_by_table == {
        "pushinpay_transactions": {"fetched": 1, "written": 1},
        "pushinpay_webhook_events": {"fetched": 1, "written": 1},
    }
    assert (again.rows_written, again.redelivery, re_encoded.rows_written, re_encoded.redelivery) == (0, True, 0, True)
    assert (refund.event_id, refund.rows_written, refund.redelivery) == (f"{TX}:refunded", 2, False)
    assert events == [
        ("tenant-a", iid, None, "webhook", f"{TX}:paid", TX),
        ("tenant-a", iid, None, "webhook", f"{TX}:refunded", TX),
    ]
    assert transactions == [
        ("tenant-a", iid, None, "webhook", TX, "paid"),
        ("tenant-a", iid, None, "webhook", TX, "refunded"),
    ]
    assert deliveries == [
        (iid, "pushinpay", f"{TX}:paid", "paid", None, 2, "done", 1),
        (iid, "pushinpay", f"{TX}:refunded", "refunded", None, 2, "done", 1),
    ]
    assert first.delivery_id == again.delivery_id == re_encoded.delivery_id
    assert sorted(landed, key=str) == [("Ana",), (None,)]


def test_a_pluggy_notification_lands_once(clean_warehouse: str) -> None:
    headers = {"X-Webhook-Secret": PLUGGY_SECRET}
    with psycopg.connect(clean_warehouse) as conn:
        iid = _integration(conn, "pluggy", secret=PLUGGY_SECRET)
        results = [land(conn, iid, headers, {"client": "x"}, PLUGGY_EVENT, keyring=KEYRING) for _ in range(3)]
        rows = _rows(conn, "pluggy_webhook_events", "item_id")
        deliveries = _deliveries(conn)
    assert [(r.event_id, r.event_type, r.rows_written, r.redelivery) for r in results] == [
        ("evt-1", "item/updated", 1, False),
        ("evt-1", "item/updated", 0, True),
        ("evt-1", "item/updated", 0, True),
    ]
    assert rows == [("tenant-a", iid, None, "webhook", "evt-1", "item-1")]
    assert [d[5:] for d in deliveries] == [(1, "done", 1)]


def test_the_same_event_for_two_tenants_lands_for_each(clean_warehouse: str) -> None:
    with psycopg.connect(clean_warehouse) as conn:
        a = _integration(conn, "pushinpay", secret=PUSHINPAY_TOKEN, tenant="tenant-a")
        b = _integration(conn, "pushinpay", secret="whk-b", tenant="tenant-b")
        land(conn, a, {"x-pushinpay-token": PUSHINPAY_TOKEN}, {}, PAID, keyring=KEYRING)
        second = land(conn, b, {"x-pushinpay-token": "whk-b"}, {}, PAID, keyring=KEYRING)
        tenants = conn.execute("select tenant_id from raw.pushinpay_webhook_events order by 1").fetchall()
    assert second.rows_written == 2 and tenants == [("tenant-a",), ("tenant-b",)]


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"x-pushinpay-token": "not-the-token"}, BadSignatureError),
        ({"x-pushinpay-token": PLUGGY_SECRET}, BadSignatureError),
        ({"Authorization": f"Bearer {PUSHINPAY_TOKEN}"}, MissingHeaderError),
        ({}, MissingHeaderError),
    ],
)
def test_a_request_that_fails_verification_stores_nothing(
    clean_warehouse: str, headers: dict[str, str], error: type[Exception]
) -> None:
    with psycopg.connect(clean_warehouse) as conn:
        iid = _integration(conn, "pushinpay", secret=PUSHINPAY_TOKEN)
        with pytest.raises(error) as raised:
            land(conn, iid, headers, {}, PAID, keyring=KEYRING)
        assert PUSHINPAY_TOKEN not in str(raised.value)
        counts = conn.execute(
            "select (select count(*) from raw.pushinpay_webhook_events), "
            "(select count(*) from raw.pushinpay_transactions), (select count(*) from ops.webhook_deliveries)"
        ).fetchone()
    assert counts == (0, 0, 0)


@pytest.mark.parametrize("body", [b'{"id": "a1", "status": "paid", "value": 10.05}', b"not a notification"])
def test_an_authentic_body_that_does_not_parse_is_kept_in_the_dead_letter_queue(
    clean_warehouse: str, body: bytes
) -> None:
    """It proved where it comes from, so it must not be lost: stored by its hash, dead, with the parse error."""
    import hashlib

    headers = {"x-pushinpay-token": PUSHINPAY_TOKEN, "Content-Type": "application/json"}
    with psycopg.connect(clean_warehouse) as conn:
        iid = _integration(conn, "pushinpay", secret=PUSHINPAY_TOKEN)
        for _ in range(2):  # the second is a redelivery: still one row
            with pytest.raises(WebhookPayloadError):
                land(conn, iid, headers, {}, body, keyring=KEYRING)
        raw = conn.execute(
            "select (select count(*) from raw.pushinpay_webhook_events), (select count(*) from raw.pushinpay_transactions)"
        ).fetchone()
        stored = conn.execute(
            "select event_id, status, last_error, body, headers from ops.webhook_deliveries"
        ).fetchall()
    assert raw == (0, 0)
    ((event_id, status, last_error, stored_body, stored_headers),) = stored
    assert (event_id, status) == ("body-sha256:" + hashlib.sha256(body).hexdigest(), "dead")
    assert last_error.startswith("pushinpay:") and bytes(stored_body) == body
    assert stored_headers == {"content-type": "application/json"}, "the token header is never stored"


def test_integrations_that_cannot_take_webhooks_are_refused_by_name(clean_warehouse: str) -> None:
    headers = {"x-pushinpay-token": PUSHINPAY_TOKEN}
    with psycopg.connect(clean_warehouse) as conn:
        no_secret = _integration(conn, "pushinpay", secret=None, tenant="tenant-n")
        ifood = _integration(conn, "ifood", secret="whk-ifood", tenant="tenant-i")
        disabled = _integration(conn, "pushinpay", secret=PUSHINPAY_TOKEN, tenant="tenant-d")
        integrations.disable(conn, disabled)
        cases = {
            no_secret: "has no webhook secret",
            ifood: "cannot take a webhook: ifood sends none",
            disabled: "is disabled",
            999_999: "No integration with id 999999",
        }
        for iid, message in cases.items():
            with pytest.raises(WebhookTargetError, match=message) as raised:
                land(conn, iid, headers, {}, PAID, keyring=KEYRING)
            assert raised.value.http_status == 404
        assert conn.execute("select count(*) from ops.webhook_deliveries").fetchone()[0] == 0


def test_received_at_records_when_the_platform_delivered(clean_warehouse: str) -> None:
    """The sink's receipt time by default; a replay of recorded deliveries keeps their original time."""
    from datetime import UTC, datetime, timedelta

    with psycopg.connect(clean_warehouse) as conn:
        iid = _integration(conn, "pushinpay", secret=PUSHINPAY_TOKEN)
        headers = {"x-pushinpay-token": PUSHINPAY_TOKEN}
        then = datetime(2026, 10, 5, 14, 30, tzinfo=UTC)
        land(conn, iid, headers, {}, PAID, keyring=KEYRING, received_at=then)
        before = datetime.now(UTC)
        land(conn, iid, headers, {}, REFUNDED, keyring=KEYRING)
        rows = conn.execute(
            "select payload ->> 'status', received_at from raw.pushinpay_webhook_events order by received_at"
        ).fetchall()
        assert rows[0] == ("paid", then)
        assert rows[1][0] == "refunded" and before - timedelta(seconds=1) <= rows[1][1] <= datetime.now(UTC)
        assert [r[0] for r in conn.execute("select received_at from ops.webhook_deliveries order by 1")] == [
            then,
            rows[1][1],
        ]
        api_rows = conn.execute("select count(*) from raw.pushinpay_transactions where received_at is null").fetchone()
        assert api_rows == (0,)  # these rows came from the webhook too
        with pytest.raises(ValueError, match="timezone-aware"):
            land(conn, iid, headers, {}, PAID, keyring=KEYRING, received_at=datetime(2026, 10, 5))
