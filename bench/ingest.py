"""Ingest benchmark: Pluggy pages → raw through the real client, against a plain COPY.

The sandbox serves N bank transactions (in its own process, over a real socket); the real
PluggyProvider pages through `/v2/transactions` and the raw writer loads them. The baseline is
a plain `COPY … FROM STDIN` of the very same rows (same columns, same payload text) into an
unindexed table, in the same database and the same run. Last line:

    BENCH ingest rows=… seconds=… rows_per_s=… copy_seconds=… vs_copy=…
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import psycopg
from tqdm import tqdm

from ingestion import raw_writer
from ingestion.warehouse import create_database, ensure_schema
from plugins.providers.base import Interval
from plugins.providers.pluggy.provider import PluggyProvider

ROOT = Path(__file__).resolve().parent.parent
DAYS = 30
START = date(2026, 10, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="bank transactions to serve (default 200k)")
    args = parser.parse_args()
    noise_per_day = max(1, math.ceil(args.rows / DAYS))
    knobs = [
        "--seed",
        "1",
        "--tenants",
        "1",
        "--stores-per-tenant",
        "1",
        "--start",
        START.isoformat(),
        "--days",
        str(DAYS),
        "--orders-per-day",
        "1",
        "--bank-noise-per-day",
        str(noise_per_day),
    ]

    url = fresh_database("conciliador_bench")
    port = free_port()
    conciliador = str(Path(sys.executable).with_name("conciliador"))
    print(f"starting the sandbox with ~{noise_per_day * DAYS:,} bank transactions…", file=sys.stderr)
    server = subprocess.Popen(
        [conciliador, "sandbox", "serve", "--port", str(port), "--rate-limit", "0", *knobs],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/_sandbox/health", server)
        creds = json.loads(
            subprocess.run(
                [conciliador, "sandbox", "credentials", "--json", "--port", str(port), *knobs],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        tenant = creds["tenants"][0]
        provider = PluggyProvider(
            credentials={
                "client_id": tenant["pluggy"]["client_id"],
                "client_secret": tenant["pluggy"]["client_secret"],
            },
            external_ids={"item_ids": tenant["pluggy"]["item_ids"]},
            base_url=creds["base_urls"]["pluggy"],
        )
        interval = Interval.for_dates(START, START + timedelta(days=DAYS - 1))
        with psycopg.connect(url) as conn, tqdm(unit=" rows", desc="extract+load", file=sys.stderr) as bar:
            started = time.perf_counter()
            stats = raw_writer.write(
                conn,
                counted(provider.sync(interval), bar),
                tenant_id=tenant["tenant_id"],
                integration_id=1,
                sync_run_id=None,
            )
            conn.commit()
            seconds = time.perf_counter() - started
        provider.close()
    finally:
        server.terminate()
        server.wait(10)

    rows = stats.written["pluggy_transactions"]
    copy_seconds = plain_copy_seconds(url)
    print(f"extracted {stats.rows_fetched:,} records, wrote {stats.rows_written:,} rows", file=sys.stderr)
    print(
        f"BENCH ingest rows={rows} seconds={seconds:.2f} rows_per_s={rows / seconds:.0f} "
        f"copy_seconds={copy_seconds:.2f} vs_copy={seconds / copy_seconds:.2f}"
    )


def counted(records, bar):
    for n, record in enumerate(records, 1):
        if n % 5000 == 0:
            bar.update(5000)
        yield record


def plain_copy_seconds(url: str) -> float:
    """Time a plain COPY of the same rows (text dumped beforehand) into an unindexed twin table."""
    columns = (
        "tenant_id, integration_id, sync_run_id, source, external_id, payload_hash, version_key, payload, account_id"
    )
    buffer = io.BytesIO()
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(f"copy (select {columns} from raw.pluggy_transactions) to stdout") as copy:
            for chunk in copy:
                buffer.write(chunk)
        conn.execute("drop table if exists public.copy_baseline")
        conn.execute(
            "create table public.copy_baseline (like raw.pluggy_transactions including defaults)"
        )  # no indexes
        conn.commit()
        data = buffer.getvalue()
        started = time.perf_counter()
        with conn.cursor().copy(f"copy public.copy_baseline ({columns}) from stdin") as copy:
            for offset in range(0, len(data), 1 << 20):
                copy.write(data[offset : offset + (1 << 20)])
        conn.commit()
        return time.perf_counter() - started


def fresh_database(name: str) -> str:
    url = create_database(name, replace=True)
    ensure_schema(url)
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"sandbox exited early: {server.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("sandbox did not become healthy in time")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
