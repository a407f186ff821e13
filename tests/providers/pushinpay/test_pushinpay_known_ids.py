"""Re-confirming by id: which ids a sync re-reads (real PostgreSQL, no HTTP).

PushinPay has no list endpoint, so `ingestion.sync.known_ids` picks, from raw, the ids a sync must
re-read, and the provider asks for each once. What the client then does with each answer (one GET
per id, bearer headers, every error answer) is checked against the served sandbox, with its fault
injection, in `test_pushinpay_served.py`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingestion import raw_writer
from ingestion.sync import known_ids
from plugins.providers.base import Interval, RawRecord
from plugins.providers.pushinpay.provider import PushinPayProvider
from plugins.providers.pushinpay.webhook import PushinPayWebhook

SPEC = PushinPayProvider.known_ids_from
WINDOW = Interval(datetime(2026, 10, 5, 3, tzinfo=UTC), datetime(2026, 10, 6, 3, tzinfo=UTC))


# ------------------------------------------------------------------------ which ids


def _land(conn: psycopg.Connection, integration_id: int, records: list[RawRecord], loaded_at: datetime) -> None:
    raw_writer.write(conn, records, tenant_id="t1", integration_id=integration_id, sync_run_id=None, source="webhook")
    for record in records:
        conn.execute(
            f"update raw.{record.table} set loaded_at = %s where external_id = %s and loaded_at > %s",
            (loaded_at, record.external_id, loaded_at),
        )


def _webhook(transaction_id: str, status: str, *, value: bool = True) -> list[RawRecord]:
    body = {"id": transaction_id, "status": status, **({"value": 1005} if value else {})}
    return list(PushinPayWebhook().parse(json.dumps(body).encode()).records)


def _confirmed(transaction_id: str, status: str) -> list[RawRecord]:
    body = json.dumps({"id": transaction_id, "status": status, "value": 1005}).encode()
    return [RawRecord("pushinpay_transactions", transaction_id, body, {"status": status})]


def test_a_sync_re_reads_ids_seen_in_its_window_and_those_not_final(clean_warehouse: str) -> None:
    before, inside, after = WINDOW.start - timedelta(days=3), WINDOW.start + timedelta(hours=5), WINDOW.end
    with psycopg.connect(clean_warehouse) as conn:
        _land(conn, 1, _webhook("a-paid-in-window", "paid"), inside)
        _land(conn, 1, _webhook("b-paid-before", "paid"), before)
        _land(conn, 1, _confirmed("c-created-before", "created"), before)
        _land(conn, 1, _webhook("d-never-confirmed", "refunded", value=False), before)
        _land(conn, 1, _confirmed("e-created-then-paid", "created"), before)
        _land(conn, 1, _confirmed("e-created-then-paid", "paid"), before + timedelta(days=1))
        _land(conn, 2, _webhook("f-other-integration", "created"), inside)
        _land(conn, 1, _webhook("g-paid-after", "paid"), after)
        _land(conn, 1, _confirmed("h-pending-before", "pending"), before)
        _land(conn, 1, _confirmed("i-unknown-status", "approved"), before)
        _land(conn, 1, _webhook("j-expired-in-window", "expired"), WINDOW.start)
        # Paid and confirmed days ago, then notified again inside the window (a refund): re-opened.
        _land(conn, 1, _confirmed("k-paid-then-refunded", "paid"), before)
        _land(conn, 1, _webhook("k-paid-then-refunded", "refunded"), inside)
        chosen = known_ids(conn, SPEC, 1, WINDOW)
        widened = known_ids(conn, SPEC, 1, WINDOW.widened(timedelta(days=3)))
        conn.rollback()
    assert chosen == [
        "a-paid-in-window",
        "c-created-before",
        "d-never-confirmed",
        "h-pending-before",
        "i-unknown-status",
        "j-expired-in-window",
        "k-paid-then-refunded",
    ]
    assert set(widened) - set(chosen) == {"b-paid-before", "e-created-then-paid"}, "the look-back re-reads older days"


def test_a_declaration_naming_an_unknown_table_or_column_is_refused(warehouse_url: str) -> None:
    from plugins.providers.base import KnownIds

    wrong = KnownIds({"pushinpay_transactions": "payload"}, ("pushinpay_transactions", "status"), frozenset())
    with psycopg.connect(warehouse_url) as conn, pytest.raises(ValueError, match="'payload' is not a column"):
        known_ids(conn, wrong, 1, WINDOW)


def test_a_replayed_delivery_is_first_seen_when_pushinpay_sent_it_not_when_it_was_replayed(
    clean_warehouse: str,
) -> None:
    """A webhook row's `received_at` is when PushinPay delivered it (the sink's receipt time, or the
    original time when recorded deliveries are replayed): a replay today of last week's deliveries
    makes them known to last week's syncs, not to today's."""
    inside, before = WINDOW.start + timedelta(hours=5), WINDOW.start - timedelta(days=3)
    with psycopg.connect(clean_warehouse) as conn:
        for transaction_id, received_at in (("k-replayed-inside", inside), ("l-replayed-before", before)):
            raw_writer.write(
                conn,
                _webhook(transaction_id, "paid"),
                tenant_id="t1",
                integration_id=1,
                sync_run_id=None,
                source="webhook",
                received_at=received_at,
            )
        chosen = known_ids(conn, SPEC, 1, WINDOW)
        today = known_ids(conn, SPEC, 1, Interval(datetime.now(UTC) - timedelta(days=1), datetime.now(UTC)))
        conn.rollback()
    assert (chosen, today) == (["k-replayed-inside"], [])
