"""The worker against real PostgreSQL: deliveries the sink stored become raw rows once; failures back
off, dead-letter after five attempts, and come back with `conciliador sink dlq replay`; two workers
never take the same delivery."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest
from sink_support import Sink
from typer.testing import CliRunner

from cli.main import app as cli
from ingestion.errors import UserError
from ingestion.webhook_landing import Backoff
from webhook_sink.worker import Pass, run, run_once

FAST = Backoff(base_s=0.2, factor=2.0)


def _payment(sink: Sink, iid: int, token: str, status: str = "paid") -> str:
    tx = str(uuid.uuid4())
    body = json.dumps({"id": tx, "status": status, "value": 1234}).encode()
    answer = sink.client.post(sink.url("pushinpay", iid), content=body, headers={"x-pushinpay-token": token})
    assert answer.status_code == 202, answer.text
    return answer.json()["event_id"]


@pytest.fixture(scope="module")
def pushinpay(registered: dict, world) -> tuple[int, str]:
    (account,) = world.credentials("")["tenants"][0]["pushinpay"]["accounts"]
    return registered["pushinpay"].integration_id, account["webhook_secret"]


def _row(url: str, event_id: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select status, attempts, rows_written, last_error, next_attempt_at - now() from ops.webhook_deliveries "
            "where event_id = %s",
            (event_id,),
        ).fetchone()


def test_a_stored_delivery_becomes_raw_rows_once(sink: Sink, pushinpay, clean_module_warehouse: str) -> None:
    event_id = _payment(sink, *pushinpay)
    with psycopg.connect(clean_module_warehouse) as conn:
        done = run_once(conn, backoff=FAST)
        again = run_once(conn, backoff=FAST)
        rows = conn.execute(
            "select e.source, e.sync_run_id, e.received_at = d.received_at from raw.pushinpay_webhook_events e "
            "join ops.webhook_deliveries d on d.event_id = e.external_id where d.event_id = %s",
            (event_id,),
        ).fetchall()
    assert (done.done, done.rows_written, again.claimed) == (1, 2, 0)
    assert rows == [("webhook", None, True)], "source webhook, no sync run, received when the sink received it"
    assert _row(clean_module_warehouse, event_id)[:4] == ("done", 1, 2, None)


def test_a_failing_delivery_backs_off_then_dead_letters_and_replays(
    sink: Sink, pushinpay, clean_module_warehouse: str
) -> None:
    event_id = _payment(sink, *pushinpay)
    url = clean_module_warehouse
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("alter table raw.pushinpay_webhook_events rename to pushinpay_webhook_events_away")
    try:
        with psycopg.connect(url) as conn:
            for attempt in range(1, 6):
                result = run_once(conn, backoff=FAST)
                status, attempts, _, error, wait = _row(url, event_id)
                assert attempts == attempt and "pushinpay_webhook_events" in error
                if attempt < 5:
                    assert (status, result) == ("pending", Pass(retried=1))
                    expected = FAST.delay(attempt)
                    assert expected - timedelta(seconds=0.15) < wait <= expected, "exponential backoff"
                    assert run_once(conn, backoff=FAST).claimed == 0, "not due before its backoff"
                    time.sleep(expected.total_seconds())
                else:
                    assert (status, result, wait) == ("dead", Pass(dead=1), None)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("alter table raw.pushinpay_webhook_events_away rename to pushinpay_webhook_events")

    listed = CliRunner().invoke(cli, ["sink", "dlq", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    (dead,) = [row for row in json.loads(listed.output) if row["event_id"] == event_id]
    assert dead["attempts"] == 5 and "UndefinedTable" in dead["last_error"] and "body" not in dead
    replayed = CliRunner().invoke(cli, ["sink", "dlq", "replay", str(dead["delivery_id"])])
    assert replayed.exit_code == 0 and "1 delivery back in the queue" in replayed.output
    with psycopg.connect(url) as conn:
        assert run_once(conn, backoff=FAST).done == 1
    assert _row(url, event_id)[:4] == ("done", 1, 2, None)


def test_a_body_that_does_not_parse_stays_dead_when_replayed(
    sink: Sink, pushinpay, clean_module_warehouse: str
) -> None:
    iid, token = pushinpay
    answer = sink.client.post(sink.url("pushinpay", iid), content=b"id=&status=", headers={"x-pushinpay-token": token})
    assert answer.json()["outcome"] == "dead_letter"
    runner = CliRunner()
    assert isinstance(runner.invoke(cli, ["sink", "dlq", "replay"]).exception, UserError), "ids or --all"
    assert "back in the queue" in runner.invoke(cli, ["sink", "dlq", "replay", "--all"]).output
    with psycopg.connect(clean_module_warehouse) as conn:
        assert run_once(conn, backoff=FAST) == Pass(dead=1), "parsing it again cannot help: dead at once"
    assert _row(clean_module_warehouse, answer.json()["event_id"])[:2] == ("dead", 1)


def test_two_workers_never_take_the_same_delivery(sink: Sink, pushinpay, clean_module_warehouse: str) -> None:
    with ThreadPoolExecutor(8) as pool:
        events = list(pool.map(lambda _: _payment(sink, *pushinpay), range(120)))
    totals: list[Pass] = []

    def work() -> None:
        totals.append(run(clean_module_warehouse, batch=7, idle_s=0, backoff=FAST, until_idle=True))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with psycopg.connect(clean_module_warehouse) as conn:
        attempts = conn.execute(
            "select attempts, status, count(*) from ops.webhook_deliveries where event_id = any(%s) group by 1, 2",
            (events,),
        ).fetchall()
        raw = conn.execute(
            "select count(*) from raw.pushinpay_webhook_events where external_id = any(%s)", (events,)
        ).fetchone()[0]
    assert attempts == [(1, "done", 120)], "each processed exactly once"
    assert sum(t.done for t in totals) == 120 and all(t.done > 0 for t in totals), "both workers took a share"
    assert raw == 120
