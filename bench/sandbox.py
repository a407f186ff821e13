"""Sandbox benchmark: how fast a world generates and how fast one server process pages it out.

Two figures the tests used to assert against the wall clock (where they only measured how busy
the machine was):

1. world: generate a world of about `--rows` bank transactions in this process (seconds, and the
   growth of this process's peak memory, in MB);
2. serve: `conciliador sandbox serve` in its own process (rate limits off) with a world of about
   `--serve-rows` transactions; one client walks `GET /pluggy/v2/transactions` to its end over one
   keep-alive connection, reading each page raw (no JSON decoding of the records), so the rate is
   the server's: rows per second, HTTP included.

Last line:

    BENCH sandbox world_rows=… world_s=… world_peak_mb=… serve_rows=… serve_s=… serve_rows_per_s=…
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

from sandbox.world import World, WorldConfig

DAYS = 30


def world_figures(rows: int) -> tuple[int, float, float]:
    """(transactions, seconds, peak memory growth in MB) of generating a one-store world."""
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    world = World(
        WorldConfig(
            tenants=1, stores_per_tenant=1, days=DAYS, orders_per_day=10, bank_noise_per_day=math.ceil(rows / DAYS)
        )
    )
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return world.bank_transaction_count, seconds, (peak_kib - before_kib) / 1024


def serve_figures(rows: int) -> tuple[int, float]:
    """(transactions paged, seconds) through a `serve` process over one connection."""
    port = _free_port()
    knobs = ["--seed", "1", "--tenants", "1", "--stores-per-tenant", "1", "--days", str(DAYS)]
    knobs += ["--orders-per-day", "1", "--bank-noise-per-day", str(math.ceil(rows / DAYS))]
    conciliador = str(Path(sys.executable).with_name("conciliador"))
    server = subprocess.Popen(
        [conciliador, "sandbox", "serve", "--port", str(port), "--rate-limit", "0", *knobs],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        creds = _wait_for_credentials(conn, server)
        conn.request(
            "POST",
            "/pluggy/auth",
            body=json.dumps({"clientId": creds["client_id"], "clientSecret": creds["client_secret"]}),
        )
        key = json.loads(conn.getresponse().read())["apiKey"]
        query: str | None = f"?accountId={creds['account_ids'][0]}"
        paged, started = 0, time.perf_counter()
        while query:
            conn.request("GET", "/pluggy/v2/transactions" + query, headers={"X-API-KEY": key})
            reply = conn.getresponse()
            body = reply.read()
            if reply.status != 200:
                raise SystemExit(f"the sandbox answered {reply.status}: {body[:200]!r}")
            paged += body.count(b'"accountId":')
            query = json.loads(body[body.rindex(b'"next":') + 7 : -1])
        return paged, time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(10)


def _wait_for_credentials(conn: http.client.HTTPConnection, server: subprocess.Popen, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.request("GET", "/_sandbox/credentials")
            return json.loads(conn.getresponse().read())["tenants"][0]["pluggy"]
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the sandbox exited: {server.stderr.read()[-2000:]}") from None
            if time.monotonic() > deadline:
                raise SystemExit("the sandbox did not come up") from None
            conn.close()
            time.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="bank transactions to generate (default 1M)")
    parser.add_argument("--serve-rows", type=int, default=150_000, help="bank transactions to page (default 150k)")
    args = parser.parse_args()
    world_rows, world_s, world_peak_mb = world_figures(args.rows)
    print(f"generated {world_rows:,} transactions in {world_s:.2f} s (+{world_peak_mb:.0f} MB peak)", file=sys.stderr)
    serve_rows, serve_s = serve_figures(args.serve_rows)
    print(f"served {serve_rows:,} transactions in {serve_s:.2f} s", file=sys.stderr)
    print(
        f"BENCH sandbox world_rows={world_rows} world_s={world_s:.2f} world_peak_mb={world_peak_mb:.0f} "
        f"serve_rows={serve_rows} serve_s={serve_s:.2f} serve_rows_per_s={serve_rows / serve_s:.0f}"
    )


if __name__ == "__main__":
    main()
