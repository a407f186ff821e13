"""`conciliador sandbox …`: knobs shared by every command, clear usage errors, a real `serve`."""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import date

import pytest
from typer.testing import CliRunner

from cli.sandbox import KNOBS, app
from sandbox.world import World, WorldConfig

runner = CliRunner()
KNOB_ARGS = [
    "--seed",
    "4",
    "--tenants",
    "1",
    "--stores-per-tenant",
    "2",
    "--start",
    "2026-11-01",
    "--days",
    "6",
    "--orders-per-day",
    "9",
    "--payout-term-days",
    "2",
    "--sales-only-rate",
    "0.1",
    "--cancelled-rate",
    "0.05",
    "--divergent-rate",
    "0",
    "--payout-schedule",
    "weekly",
    "--anticipation-rate",
    "0.2",
    "--partial-payment-rate",
    "0.2",
    "--refund-after-payment-rate",
    "0.02",
    "--orphan-event-rate",
    "0.02",
    "--bank-noise-per-day",
    "3",
]
KNOB_CONFIG = WorldConfig(
    seed=4,
    tenants=1,
    stores_per_tenant=2,
    start=date(2026, 11, 1),
    days=6,
    orders_per_day=9,
    payout_term_days=2,
    sales_only_rate=0.1,
    cancelled_rate=0.05,
    divergent_rate=0,
    payout_schedule="weekly",
    anticipation_rate=0.2,
    partial_payment_rate=0.2,
    refund_after_payment_rate=0.02,
    orphan_event_rate=0.02,
    bank_noise_per_day=3,
)


def test_every_command_takes_every_knob() -> None:
    assert [k.name for k in KNOBS] == list(WorldConfig.knob_names())
    for command in ("serve", "credentials", "truth"):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        for knob in KNOBS:
            assert knob.flag in result.stdout, (command, knob.flag)


def test_credentials_json_is_the_worlds() -> None:
    result = runner.invoke(app, ["credentials", "--json", "--port", "9123", *KNOB_ARGS])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == World(KNOB_CONFIG).credentials("http://127.0.0.1:9123")


def test_truth_writes_the_csv_and_prints_the_counts(tmp_path) -> None:
    out = tmp_path / "truth.csv"
    result = runner.invoke(app, ["truth", *KNOB_ARGS, "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    world = World(KNOB_CONFIG)
    rows = list(csv.DictReader(out.open()))
    # one header for every platform's rows: each row fills its own columns, the others stay empty
    columns = list(dict.fromkeys(c for facts in world.facts.values() for c in facts.truth_columns))
    assert rows == [{c: "" if row.get(c) is None else str(row[c]) for c in columns} for row in world.ground_truth()]
    for status, n in world.status_counts().items():
        assert re.search(rf"^{status}\s+{n:,}\s", result.stdout, re.MULTILINE)
    for (status, reason), n in world.reason_counts().items():
        assert re.search(rf"^  {status} / {reason or '-'}\s+{n:,}$", result.stdout, re.MULTILINE)
    to_stdout = runner.invoke(app, ["truth", *KNOB_ARGS])
    assert to_stdout.exit_code == 0
    assert Counter(r["status"] for r in csv.DictReader(io.StringIO(to_stdout.stdout))) == Counter(
        {k: v for k, v in world.status_counts().items() if v}
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["truth", "--start", "2026-13-01"], "--start: '2026-13-01' is not a valid date (YYYY-MM-DD)."),
        (["truth", "--days", "-3"], "--days: days must be between 1 and 3,660, got -3."),
        (["credentials", "--tenants", "two"], "--tenants: 'two' is not a whole number."),
        (["truth", "--sales-only-rate", "1.5"], "--sales-only-rate: sales_only_rate must be between 0 and 1, got 1.5."),
        (["truth", "--payout-schedule", "monthly"], "--payout-schedule: payout_schedule must be one of daily, weekly"),
        (["serve", "--port", "70000"], "--port: 70000 is not a TCP port (0-65535)."),
        (["serve", "--rate-limit", "-1"], "--rate-limit: -1 is negative; use 0 to switch rate limiting off."),
        (["truth", "--out", "/nonexistent-dir/t.csv", "--days", "1"], "--out: cannot write"),
    ],
)
def test_malformed_input_is_one_sentence_and_exit_code_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_runs_a_real_server_that_pages_every_transaction() -> None:
    """`serve` in its own process (as the benchmarks run it) pages its world's whole statement.

    How fast it pages is `make bench-sandbox`'s figure, not this test's.
    """
    port = _free_port()
    knobs = [
        "--seed",
        "1",
        "--tenants",
        "1",
        "--stores-per-tenant",
        "1",
        "--days",
        "30",
        "--orders-per-day",
        "1",
        "--bank-noise-per-day",
        "200",
    ]
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from cli.sandbox import app; app()",
            "serve",
            "--port",
            str(port),
            "--rate-limit",
            "0",
            *knobs,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        deadline = time.monotonic() + 60
        while True:
            try:
                conn.request("GET", "/_sandbox/credentials")
                creds = json.loads(conn.getresponse().read())["tenants"][0]["pluggy"]
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "the sandbox did not come up"
                conn.close()
                time.sleep(0.2)
        conn.request(
            "POST",
            "/pluggy/auth",
            body=json.dumps({"clientId": creds["client_id"], "clientSecret": creds["client_secret"]}),
        )
        key = json.loads(conn.getresponse().read())["apiKey"]
        query: str | None = f"?accountId={creds['account_ids'][0]}"
        ids: list[str] = []
        while query:
            conn.request("GET", "/pluggy/v2/transactions" + query, headers={"X-API-KEY": key})
            reply = conn.getresponse()
            body = json.loads(reply.read())
            assert reply.status == 200, body
            ids += [t["id"] for t in body["results"]]
            query = body["next"]
    finally:
        server.terminate()
        server.wait(10)
    world = World(
        WorldConfig(seed=1, tenants=1, stores_per_tenant=1, days=30, orders_per_day=1, bank_noise_per_day=200)
    )
    ledger = world.ledgers[creds["account_ids"][0]]
    assert ids == [ledger.transaction_id(i) for i in range(len(ledger))], "every row once, in order, to the end"
