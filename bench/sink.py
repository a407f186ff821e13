"""Webhook sink benchmark: requests per second and latency with a real commit, against a no-op app.

Both servers are the same uvicorn configuration (`webhook_sink/server.py`: uvloop, httptools, one
process); one serves the real sink (`conciliador sink serve`: verification, the event id parsed from
the body, a group commit into `ops.webhook_deliveries` before every 202), the other a no-op ASGI
app that reads the body and answers 202 (`webhook_sink/noop.py`). The load generator
(`bench/sink_load.py`) runs in a process of its own with 32 keep-alive connections, each sending
its next delivery as soon as the last is answered. The same run alternates the two servers for
`--rounds` rounds (no-op, sink, no-op, sink, …) and reports each one's median round, so a burst of
other work on a shared machine weighs on both alike. Every delivery has an event id of its own; the ledger of acknowledged ids is checked against
the inbox afterwards: `lost` counts the 202s with no row, `stored` the rows of acknowledged ids
(each exactly once: the inbox is unique per event). Last line:

    BENCH sink rps=… noop_rps=… vs_noop=… p50_ms=… p99_ms=… acked=… stored=… lost=…
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg

from bench.ingest import free_port, fresh_database
from ingestion import integrations
from ingestion.vault import ENV_VAR, Keyring, new_key_spec

DATABASE = "conciliador_bench_sink"
TOKEN_ENV = "BENCH_SINK_TOKEN"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per server (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server (default 3)")
    args = parser.parse_args()

    url = fresh_database(DATABASE)
    keys = new_key_spec("bench-sink")
    token = os.urandom(16).hex()
    with psycopg.connect(url) as conn:
        integration = integrations.add(
            conn,
            Keyring.parse(keys),
            tenant_id="bench",
            provider="pushinpay",
            credentials={"token": "bench|token"},
            external_ids={"payout_documents": ["11222333000181"]},
            webhook_secret=token,
        )
    path = f"/integrations/webhooks/pushinpay/{integration.integration_id}"
    env = {**os.environ, "DATABASE_URL": url, ENV_VAR: keys, TOKEN_ENV: token}

    noop_port, sink_port = free_port(), free_port()
    noop = _start(
        [sys.executable, "-m", "webhook_sink.noop", "--port", str(noop_port)], env, f"http://127.0.0.1:{noop_port}/"
    )
    sink = None
    try:
        sink = _start(
            [sys.executable, "-m", "cli.main", "sink", "serve", "--port", str(sink_port)],
            env,
            f"http://127.0.0.1:{sink_port}/health",
        )
        baselines, rounds = [], []
        for n in range(args.rounds):
            baselines.append(_drive(noop_port, path, args, env))
            rounds.append(_drive(sink_port, path, args, env))
            print(
                f"round {n + 1}: no-op {baselines[-1]['rps']:,.0f} rps, sink {rounds[-1]['rps']:,.0f} rps",
                file=sys.stderr,
            )
    finally:
        _stop(noop)
        if sink is not None:
            _stop(sink)
    ledger_all = [event for result in rounds for event in result.pop("ledger")]
    baseline = _median(baselines)
    measured = {**_median(rounds), "ledger": ledger_all}

    ledger = set(measured.pop("ledger"))
    with psycopg.connect(url) as conn:
        stored_ids = {
            row[0]
            for row in conn.execute(
                "select event_id from ops.webhook_deliveries where integration_id = %s", (integration.integration_id,)
            )
        }
        rows, distinct = conn.execute(
            "select count(*), count(distinct event_id) from ops.webhook_deliveries where integration_id = %s",
            (integration.integration_id,),
        ).fetchone()
    stored = len(ledger & stored_ids)
    lost = len(ledger - stored_ids)
    assert rows == distinct, "an event stored twice"
    print(
        f"no-op: {baseline['rps']:,.0f} rps, p50 {baseline['p50_ms']:.2f} ms, p99 {baseline['p99_ms']:.2f} ms; "
        f"sink: {measured['rps']:,.0f} rps, p50 {measured['p50_ms']:.2f} ms, p99 {measured['p99_ms']:.2f} ms, "
        f"answers {measured['statuses']}, connection errors {measured['errors']}; "
        f"{rows:,} inbox rows ({len(ledger):,} acknowledged, {lost} of them missing)",
        file=sys.stderr,
    )
    print(
        f"BENCH sink rps={measured['rps']:.0f} noop_rps={baseline['rps']:.0f} "
        f"vs_noop={measured['rps'] / baseline['rps']:.2f} p50_ms={measured['p50_ms']:.2f} "
        f"p99_ms={measured['p99_ms']:.2f} acked={len(ledger)} stored={stored} lost={lost}"
    )


def _median(results: list[dict]) -> dict:
    """The round with the median throughput (its latencies with it)."""
    return sorted(results, key=lambda r: r["rps"])[len(results) // 2]


def _start(command: list[str], env: dict[str, str], ready: str) -> subprocess.Popen:
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"{command[2]} exited early: {server.stderr.read()[-2000:]}")
        try:
            request = urllib.request.Request(ready, method="GET")
            with urllib.request.urlopen(request, timeout=2):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"{command[2]} did not become ready")


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _drive(port: int, path: str, args: argparse.Namespace, env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "load.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.sink_load",
                "--port",
                str(port),
                "--path",
                path,
                "--token-env",
                TOKEN_ENV,
                "--connections",
                str(args.connections),
                "--seconds",
                str(args.seconds),
                "--out",
                str(out),
            ],
            env=env,
            check=True,
        )
        return json.loads(out.read_text())


if __name__ == "__main__":
    main()
