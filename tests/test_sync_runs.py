"""ops.sync_runs tells the truth: clock times, killed runs marked abandoned, every failure recorded.

A sync runs against the sandbox over a real socket and into the session's PostgreSQL. The kill
test runs `conciliador sync` as a separate process and `kill -9`s it halfway through its
extraction, the way an OOM killer or a lost node would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from cli.demo import register_sandbox_integrations
from ingestion.sync import mark_abandoned_runs, run_sync
from ingestion.vault import Keyring, new_key_spec
from plugins.providers.base import Interval
from plugins.providers.registry import RAW_TABLES
from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig

CONFIG = WorldConfig(seed=7, tenants=1, stores_per_tenant=2, days=6, orders_per_day=15, bank_noise_per_day=40)
INTERVAL = Interval.for_dates(CONFIG.start, CONFIG.start + timedelta(days=CONFIG.days - 1))
CONCILIADOR = str(Path(sys.executable).with_name("conciliador"))


@pytest.fixture(scope="module")
def sandbox():
    world = World(CONFIG)
    base_url, stop = start_in_thread(world, port=0)
    yield base_url, world
    stop()


@pytest.fixture
def setup(clean_warehouse: str, sandbox):
    base_url, world = sandbox
    httpx.delete(f"{base_url}/_sandbox/faults").raise_for_status()
    register_sandbox_integrations(clean_warehouse, world.credentials(base_url))
    with psycopg.connect(clean_warehouse) as conn:
        ids = dict(conn.execute("select provider, integration_id from control.integrations").fetchall())
    yield clean_warehouse, base_url, ids
    httpx.delete(f"{base_url}/_sandbox/faults").raise_for_status()


def inject(base_url: str, provider: str, path_prefix: str, *responses: dict, count: int = 1) -> None:
    httpx.post(
        f"{base_url}/_sandbox/faults",
        json={"provider": provider, "path_prefix": path_prefix, "responses": list(responses), "count": count},
    ).raise_for_status()


def raw_rows(url: str) -> dict[str, set[tuple[str, str]]]:
    """Every raw row as (external_id, payload_hash), per table: what 'identical' means for raw."""
    with psycopg.connect(url) as conn:
        return {
            table: set(conn.execute(f"select external_id, payload_hash from raw.{table}").fetchall())
            for table in RAW_TABLES
        }


def runs(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select sync_run_id, status, error_kind, retryable, error, finished_at - started_at "
            "from ops.sync_runs order by sync_run_id"
        ).fetchall()


def test_finished_at_is_read_from_the_clock_not_the_transaction_start(setup) -> None:
    url, base_url, ids = setup
    # The provider takes a second to answer one page; the run must last at least that long.
    inject(base_url, "pluggy", "/v2/transactions", {"delay_s": 1.0})
    run_sync(url, ids["pluggy"], INTERVAL)
    [(_, status, _, _, _, duration)] = runs(url)
    assert status == "success"
    assert duration >= timedelta(seconds=1.0), f"a sync that waited 1 s is recorded as lasting {duration}"


def test_a_failure_before_extraction_begins_is_recorded(setup) -> None:
    url, _, ids = setup
    stranger = Keyring.parse(new_key_spec("someone-elses-key"))
    with pytest.raises(Exception, match="not in"):
        run_sync(url, ids["ifood"], INTERVAL, keyring=stranger)
    [(_, status, kind, retryable, error, duration)] = runs(url)
    assert (status, kind, retryable) == ("failed", "UserError", False)
    assert "someone-elses-key" not in error and "sealed with key" in error
    assert duration is not None


def test_a_live_run_is_never_marked_abandoned(setup) -> None:
    url, base_url, ids = setup
    inject(base_url, "pluggy", "/v2/transactions", {"delay_s": 2.0})
    worker = threading.Thread(target=run_sync, args=(url, ids["pluggy"], INTERVAL))
    worker.start()
    try:
        _wait_for(lambda: [r for r in runs(url) if r[1] == "running"], "the sync to start")
        with psycopg.connect(url) as conn:
            assert mark_abandoned_runs(conn) == []
            conn.commit()
        assert [r[1] for r in runs(url)] == ["running"]
    finally:
        worker.join()
    assert [r[1] for r in runs(url)] == ["success"]


def test_kill_9_during_a_sync_lands_nothing_and_the_next_sync_marks_it_abandoned(setup) -> None:
    url, base_url, ids = setup
    run_sync(url, ids["ifood"], INTERVAL)
    clean = raw_rows(url)
    assert sum(map(len, clean.values())) > 100
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"truncate {', '.join(f'raw.{t}' for t in RAW_TABLES)}")
        conn.execute("delete from ops.sync_runs")

    # The first merchant's first pages come back and reach the raw tables (small chunks, inside
    # the sync's transaction); then the provider hangs and the process is killed.
    _hold_after_first_pages(base_url)
    env = {**os.environ, "DATABASE_URL": url, "CONCILIADOR_RAW_CHUNK_ROWS": "20"}
    first, last = INTERVAL.first_date.isoformat(), INTERVAL.last_date.isoformat()
    process = subprocess.Popen(
        [CONCILIADOR, "sync", "--integration", str(ids["ifood"]), "--start", first, "--end", last],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(lambda: _held(base_url), "the sync to reach the hanging call")
        # Uncommitted rows already occupy pages of the (just truncated, empty) raw table.
        _wait_for(lambda: _relation_bytes(url, "raw.ifood_sales") > 0, "the first rows to reach raw")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL

    # The killed run landed nothing and still reads `running`: nobody recorded an outcome.
    _wait_for(lambda: _no_open_transactions(url), "PostgreSQL to notice the dead client")
    assert sum(map(len, raw_rows(url).values())) == 0
    assert [r[1] for r in runs(url)] == ["running"]

    httpx.delete(f"{base_url}/_sandbox/faults").raise_for_status()
    run_sync(url, ids["ifood"], INTERVAL)
    recorded = runs(url)
    assert [(r[1], r[2]) for r in recorded] == [("abandoned", "Abandoned"), ("success", None)]
    assert recorded[0][5] is not None, "an abandoned run gets a finish time"
    assert raw_rows(url) == clean


def _hold_after_first_pages(base_url: str) -> None:
    """Let the first calls through, then hang: a fault queued behind pass-through responses.

    The sandbox consumes a fault's responses in order; a response with a delay and no status
    lets the provider answer after it. Three pass-throughs (the token call is outside the
    prefix: sales, events …) and then a minute of silence.
    """
    httpx.delete(f"{base_url}/_sandbox/faults").raise_for_status()
    httpx.delete(f"{base_url}/_sandbox/requests").raise_for_status()
    passes = [{"delay_s": 0.001}] * PASSED_CALLS
    inject(base_url, "ifood", "/financial/v3.0/merchants", *passes, {"delay_s": 60})


PASSED_CALLS = 3


def _held(base_url: str) -> bool:
    """True once the passed calls were answered and the hanging one was taken off the queue."""
    log = httpx.get(f"{base_url}/_sandbox/requests").json()
    answered = sum(1 for entry in log if entry["path"].startswith("/ifood/financial/v3.0/merchants"))
    return answered >= PASSED_CALLS and httpx.get(f"{base_url}/_sandbox/faults").json() == []


def _relation_bytes(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("select pg_relation_size(%s::regclass)", (table,)).fetchone()[0]


def _no_open_transactions(url: str) -> bool:
    with psycopg.connect(url) as conn:
        busy = conn.execute(
            "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() "
            "and state = 'idle in transaction'"
        ).fetchone()[0]
    return busy == 0


def _wait_for(condition, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
