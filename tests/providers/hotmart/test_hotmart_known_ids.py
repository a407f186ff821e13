"""Which sales a Hotmart sync re-reads by transaction (real PostgreSQL, no HTTP).

Hotmart lists sales by order date, and a sale changes after it: approved when its boleto clears,
refunded, charged back, COMPLETE when the guarantee ends. So the provider declares
`known_ids_from`, and `ingestion.sync.known_ids` picks from raw every transaction a webhook named
in the sync's window and every sale whose last landed status is not final. What the client does
with each (one `transaction=` read, then commissions and price details when paid) is checked
against the served sandbox in the integration phase.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg

from ingestion import raw_writer
from ingestion.sync import known_ids
from plugins.providers.base import Interval, RawRecord
from plugins.providers.hotmart.provider import FINAL_STATUSES, HotmartProvider
from plugins.providers.hotmart.webhook import HotmartWebhook

SPEC = HotmartProvider.known_ids_from
WINDOW = Interval(datetime(2026, 10, 5, 3, tzinfo=UTC), datetime(2026, 10, 6, 3, tzinfo=UTC))


def _land(conn: psycopg.Connection, integration_id: int, records: list[RawRecord], loaded_at: datetime) -> None:
    source = "webhook" if records[0].table == "hotmart_webhook_events" else "api"
    raw_writer.write(conn, records, tenant_id="t1", integration_id=integration_id, sync_run_id=None, source=source)
    for record in records:
        conn.execute(
            f"update raw.{record.table} set loaded_at = %s where external_id = %s and loaded_at > %s",
            (loaded_at, record.external_id, loaded_at),
        )


def _webhook(transaction: str | None, event: str = "PURCHASE_APPROVED") -> list[RawRecord]:
    purchase = {"transaction": transaction, "status": "APPROVED", "price": {"value": 10.05}}
    data = {"product": {"id": 1}, "purchase": purchase} if transaction else {"product": {"id": 1}}
    body = {"id": f"evt-{transaction}-{event}", "creation_date": 1, "event": event, "version": "2.0.0", "data": data}
    return list(HotmartWebhook().parse(json.dumps(body).encode()).records)


def _sale(transaction: str, status: str) -> list[RawRecord]:
    body = json.dumps({"purchase": {"transaction": transaction, "status": status}}).encode()
    return [RawRecord("hotmart_sales", transaction, body, {"status": status})]


def test_the_final_statuses_are_the_ones_a_sale_does_not_leave_by_itself() -> None:
    assert SPEC is not None and SPEC.final_statuses == FINAL_STATUSES
    assert {"BLOCKED", "PROTESTED", "PARTIALLY_REFUNDED", "WAITING_PAYMENT"}.isdisjoint(FINAL_STATUSES)
    # APPROVED is final for known ids: the warranty passes list its later statuses (provider.py)
    assert "APPROVED" in FINAL_STATUSES
    assert SPEC.seen_in == {"hotmart_webhook_events": "transaction", "hotmart_sales": "external_id"}


def test_a_sync_re_reads_sales_a_webhook_named_in_its_window_and_those_not_final_approved_being_final(
    clean_warehouse: str,
) -> None:
    assert SPEC is not None
    before, inside = WINDOW.start - timedelta(days=3), WINDOW.start + timedelta(hours=5)
    with psycopg.connect(clean_warehouse) as conn:
        _land(conn, 1, _webhook("HP-A-notified-in-window"), inside)
        _land(conn, 1, _sale("HP-B-complete-before", "COMPLETE"), before)
        _land(conn, 1, _sale("HP-C-approved-before", "APPROVED"), before)
        _land(conn, 1, _sale("HP-D-waiting-then-refunded", "WAITING_PAYMENT"), before)
        _land(conn, 1, _sale("HP-D-waiting-then-refunded", "REFUNDED"), before + timedelta(days=1))
        _land(conn, 2, _webhook("HP-F-other-integration"), inside)
        _land(conn, 1, _sale("HP-G-protested-before", "PROTESTED"), before)
        _land(conn, 1, _webhook(None, "SUBSCRIPTION_CANCELLATION"), inside)
        _land(conn, 1, _webhook("HP-H-notified-before-never-read"), before)
        chosen = known_ids(conn, SPEC, 1, WINDOW)
        conn.rollback()
    assert chosen == [
        "HP-A-notified-in-window",
        "HP-G-protested-before",
        "HP-H-notified-before-never-read",
    ]


def test_a_webhook_about_a_sale_already_final_brings_it_back_that_day(clean_warehouse: str) -> None:
    """A PURCHASE_CHARGEBACK delivered long after the sale landed COMPLETE re-opens it for the day
    it arrived (`known_ids`: any sighting in the window), so that day's sync re-reads it; the day
    after, it is final again and left alone."""
    assert SPEC is not None
    before, inside = WINDOW.start - timedelta(days=40), WINDOW.start + timedelta(hours=5)
    next_day = Interval(WINDOW.end, WINDOW.end + timedelta(days=1))
    with psycopg.connect(clean_warehouse) as conn:
        _land(conn, 1, _sale("HP-E-chargeback-after-complete", "COMPLETE"), before)
        _land(conn, 1, _webhook("HP-E-chargeback-after-complete", "PURCHASE_CHARGEBACK"), inside)
        chosen = known_ids(conn, SPEC, 1, WINDOW)
        after = known_ids(conn, SPEC, 1, next_day)
        conn.rollback()
    assert (chosen, after) == (["HP-E-chargeback-after-complete"], [])
