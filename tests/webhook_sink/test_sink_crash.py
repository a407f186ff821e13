"""Crash tests: under load, kill -9 the sink, and (separately) restart PostgreSQL the hard way; afterwards
every delivery that got a 202 is in the inbox exactly once.

Loopback only and bounded (about ten seconds each): the sink runs as `conciliador sink serve` in a
process of its own, the load generator (`bench/sink_load.py`) drives 16 keep-alive connections
from a thread, reconnecting whenever the sink is gone. The PostgreSQL test stops the embedded test
server in immediate mode (no checkpoint, crash recovery on start) and starts it again on its port.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from bench.sink_load import Load, drive
from ingestion import integrations, pg_binaries
from ingestion.pg_server import EmbeddedServer
from ingestion.vault import Keyring

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "whk-crash-test-token"
pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SinkProcess:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "sink", "serve", "--port", str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the sink exited"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("the sink did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def crash_target(clean_warehouse: str):
    with psycopg.connect(clean_warehouse) as conn:
        added = integrations.add(
            conn,
            Keyring.load(),
            tenant_id="tenant-crash",
            provider="pushinpay",
            credentials={"token": "123|abc"},
            external_ids={"payout_documents": ["11222333000181"]},
            webhook_secret=TOKEN,
        )
    sink = SinkProcess(_free_port())
    sink.start()
    yield clean_warehouse, added.integration_id, sink
    sink.stop()


def _load_in_thread(port: int, iid: int, seconds: float) -> tuple[threading.Thread, Load]:
    holder: dict[str, Load] = {}

    def run() -> None:
        holder["load"] = asyncio.run(
            drive(
                host="127.0.0.1",
                port=port,
                path=f"/integrations/webhooks/pushinpay/{iid}",
                token=TOKEN,
                connections=16,
                seconds=seconds,
                warmup_s=0,
            )
        )

    thread = threading.Thread(target=run)
    thread.start()
    return thread, holder  # type: ignore[return-value]


def _stored_once(url: str, iid: int, acked: list[str]) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select event_id, count(*) from ops.webhook_deliveries where integration_id = %s group by 1", (iid,)
        ).fetchall()
    stored = dict(rows)
    missing = [event for event in acked if event not in stored]
    assert not missing, f"{len(missing)} acknowledged deliveries are not stored, e.g. {missing[:3]}"
    assert set(stored.values()) == {1}
    return len(acked), len(stored)


def _start_as_before(server: EmbeddedServer) -> None:
    """Start the server with the options it last ran with (its port above all: clients still point there).

    `EmbeddedServer.start` would move to another port while the old one has connections in TIME_WAIT.
    """
    recorded = shlex.split((server.pgdata / "postmaster.opts").read_text())
    pg_binaries.run(
        [
            str(pg_binaries.bin_dir() / "pg_ctl"),
            "-D",
            str(server.pgdata),
            "-l",
            str(server.log_file),
            "-o",
            shlex.join(recorded[3:]),  # after the binary and its -D <pgdata>
            "-w",
            "-t",
            "60",
            "start",
        ],
        pg_binaries.os_user(),
        log_file=server.log_file,
    )


def test_kill_9_of_the_sink_under_load_loses_no_acknowledged_delivery(crash_target) -> None:
    url, iid, sink = crash_target
    thread, holder = _load_in_thread(sink.port, iid, seconds=7)
    time.sleep(2.5)
    sink.kill()
    time.sleep(0.5)
    sink.start()
    thread.join(30)
    load = holder["load"]
    acked, stored = _stored_once(url, iid, load.acked)
    assert load.errors > 0, "the kill was felt by the clients"
    assert acked > 100 and stored >= acked


def test_a_postgresql_restart_under_load_is_503_never_a_lost_202(crash_target) -> None:
    url, iid, sink = crash_target
    server = EmbeddedServer.default()
    port = psycopg.conninfo.conninfo_to_dict(url).get("port")
    if not server.is_running() or str(server.port) != str(port):
        pytest.skip("the test warehouse is not the embedded server this test can restart")
    thread, holder = _load_in_thread(sink.port, iid, seconds=8)
    time.sleep(2.0)
    pg_binaries.run(
        [str(pg_binaries.bin_dir() / "pg_ctl"), "-D", str(server.pgdata), "-m", "immediate", "-w", "stop"],
        pg_binaries.os_user(),
        log_file=server.log_file,
    )
    time.sleep(1.5)
    _start_as_before(server)
    thread.join(30)
    load = holder["load"]
    acked, stored = _stored_once(url, iid, load.acked)
    assert load.statuses.get("503", 0) > 0, "while the database was down the sink said 503"
    assert set(load.statuses) <= {"202", "503"}, load.statuses
    assert acked > 100 and stored >= acked
    assert httpx.get(f"http://127.0.0.1:{sink.port}/health").status_code == 200
