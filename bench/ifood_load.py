"""The iFood benchmark's data: a sandbox world of N orders, loaded into raw through the product path.

The world is served by the sandbox server (in a child process, rate limits off) and extracted by
the real providers through `ingestion.sync.run_sync`, as the daily DAG does, into a database of
its own on the bench's warehouse. Loading is setup, not a headline figure, so the loaded database is
kept (named after the size and a digest of everything that shapes the rows) and reused by the
next run; `--fresh` reloads.

The last business day is loaded by its own syncs (labelled `bench-last-day`, the daily DAG's window
for that day), so every run sets exactly the rows they wrote aside before the full build and puts
them back before the daily incremental run: the raw state before and after that day's extraction,
without extracting again.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import socket
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path

import psycopg
from psycopg import sql
from tqdm import tqdm

from ingestion import integrations
from ingestion.sync import run_sync
from ingestion.warehouse import create_database, database_url, drop_database, ensure_schema, with_database
from plugins.providers.base import Interval
from plugins.providers.registry import RAW_TABLES
from sandbox.options import ServerOptions
from sandbox.server import serve
from sandbox.world import World, WorldConfig

ROOT = Path(__file__).resolve().parent.parent
START = date(2026, 10, 1)
DAYS = 61  # 2026-10-01 .. 2026-11-30 (a Monday): two competences, with holidays on Oct 12, Nov 2 and Nov 20
ORDERS_PER_STORE_DAY = 50  # a busy restaurant; sizes grow by adding stores, not by bloating batches
STORES_PER_TENANT = 5
BANK_NOISE_PER_DAY = 2
SYNC_WORKERS = 4
DAILY_LOOKBACK_DAYS = 2  # the daily DAG's default look-back (dags/conciliador_daily.py)
HISTORY_LABEL = "bench-history"
LAST_DAY_LABEL = "bench-last-day"
HOLD_SCHEMA = "bench_hold"
TRUTH_TABLE = "bench_truth.orders"
# Everything whose change changes the loaded rows: a new version of any of these invalidates the cache.
# LOAD_VERSION stands for this module's own loading procedure: bump it when that changes.
SOURCES = ("sandbox/**/*.py", "plugins/providers/**/*.py", "ingestion/raw_writer.py", "ingestion/sync.py")
LOAD_VERSION = 1
# Rate limits off and the on-demand report processed by its second poll: the bench measures the
# warehouse, not the providers' published pacing (which would turn a 1M-order load into hours).
SERVER_OPTIONS = ServerOptions().with_rate_limit(None).with_platform("ifood", ondemand_delay_s=0.0)


@dataclass(frozen=True)
class Shape:
    """How N orders are laid out in the sandbox world."""

    tenants: int
    stores_per_tenant: int
    days: int
    orders_per_day: int

    @classmethod
    def for_orders(cls, orders: int) -> Shape:
        """About `orders` orders over DAYS days, ~ORDERS_PER_STORE_DAY per store and day."""
        stores = max(1, round(orders / (DAYS * ORDERS_PER_STORE_DAY)))
        tenants = math.ceil(stores / STORES_PER_TENANT)
        per_tenant = math.ceil(stores / tenants)
        per_day = max(1, round(orders / (tenants * per_tenant * DAYS)))
        return cls(tenants, per_tenant, DAYS, per_day)

    def config_kwargs(self) -> dict[str, object]:
        return {
            "seed": 2026,
            "tenants": self.tenants,
            "stores_per_tenant": self.stores_per_tenant,
            "start": START,
            "days": self.days,
            "orders_per_day": self.orders_per_day,
            "bank_noise_per_day": BANK_NOISE_PER_DAY,
            # iFood's benchmark: the other platforms that sell (the gateways) sell nothing here
            **{k: 0 for k in WorldConfig.knob_names() if k.endswith("_orders_per_day") and k != "orders_per_day"},
        }

    @property
    def last_day(self) -> date:
        return START + timedelta(days=self.days - 1)

    @property
    def as_of(self) -> date:
        """The world's "today" (the day after its last day): the as-of of the daily run."""
        return START + timedelta(days=self.days)


@dataclass
class Loaded:
    """A bench database holding the raw tables (and the ground truth) for one size."""

    url: str
    shape: Shape
    orders: int
    load_s: float | None  # None when the cache was reused
    raw_rows: int


def cache_digest(shape: Shape) -> str:
    """Eight hex digits over the world's knobs and the sources that turn them into raw rows."""
    knobs = {**shape.config_kwargs(), "load_version": LOAD_VERSION, "daily_lookback": DAILY_LOOKBACK_DAYS}
    digest = hashlib.sha256(json.dumps(knobs, default=str, sort_keys=True).encode())
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def database_name(orders: int, shape: Shape) -> str:
    return f"conciliador_bench_ifood_{orders}_{cache_digest(shape)}"


def prepare(orders: int, *, fresh: bool, reuse_stale: bool = False) -> Loaded:
    """The bench database for `orders`: reused when a complete load of the same world exists.

    With `reuse_stale`, a complete load of this size from older sources is reused too (the world's
    knobs are the same; the sandbox or client code may have changed since): a way to re-time the
    warehouse on a large size without reloading it.
    """
    shape = Shape.for_orders(orders)
    name = database_name(orders, shape)
    server = database_url()
    with psycopg.connect(server, autocommit=True) as conn:
        loads = [
            row[0]
            for row in conn.execute(
                "select datname from pg_database where datname ~ %s order by datname",
                (f"^conciliador_bench_ifood_{orders}_[0-9a-f]{{8}}$",),
            )
        ]
    candidates = [name] if name in loads else []
    if reuse_stale:
        candidates += [other for other in loads if other != name]
    for candidate in candidates if not fresh else []:
        url = with_database(server, candidate)
        if _is_complete(url):
            restore_last_day(url)  # a run interrupted between hold and restore
            stale = "" if candidate == name else f" — STALE: loaded from older sources than {name}"
            log(f"reusing {candidate} (loaded earlier; --fresh reloads){stale}")
            return Loaded(url, shape, _count(url, TRUTH_TABLE), None, _raw_rows(url))
    for old in loads:  # this size's loads of an older world (or a load that did not finish)
        drop_database(old)
    url = create_database(name)
    ensure_schema(url)
    started = time.perf_counter()
    n_orders = load(url, shape)
    load_s = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        conn.execute("create table bench_truth.complete (loaded_at timestamptz default now(), load_s float8)")
        conn.execute("insert into bench_truth.complete (load_s) values (%s)", (load_s,))
    return Loaded(url, shape, n_orders, load_s, _raw_rows(url))


def load(url: str, shape: Shape) -> int:
    """Generate the world, serve it, extract every day into raw; store the ground truth. Returns orders."""
    from cli.demo import register_sandbox_integrations

    config = WorldConfig(**shape.config_kwargs())
    server = start_server(config)  # builds its own copy of the world meanwhile
    started = time.perf_counter()
    world = World(config)
    orders = len(world.facts["ifood"].orders)
    log(f"generated the world: {orders:,} orders, {shape} ({time.perf_counter() - started:.1f}s)")
    store_truth(url, world.facts["ifood"].ground_truth())
    with served(server) as base_url:
        register_sandbox_integrations(url, world.credentials(base_url))
        sync_all(url, Interval.for_dates(START, shape.last_day - timedelta(days=1)), HISTORY_LABEL)
        sync_all(url, daily_interval(shape), LAST_DAY_LABEL)
    return orders


def start_server(config: WorldConfig) -> tuple[BaseProcess, int]:
    """The sandbox server for `config` in a child process (its own GIL: on 2 cores, serving and
    extracting in one interpreter halve the load rate); returns (process, port)."""
    port = _free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=serve,
        args=(config,),
        kwargs={"host": "127.0.0.1", "port": port, "options": SERVER_OPTIONS},
        name="bench-ifood-sandbox",
        daemon=True,
    )
    process.start()
    return process, port


@contextmanager
def served(server: tuple[BaseProcess, int], timeout_s: float = 900) -> Iterator[str]:
    """Wait until the child server answers its health check; stop it (only it) afterwards."""
    process, port = server
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            if not process.is_alive():
                raise RuntimeError(f"the sandbox server exited early (code {process.exitcode})")
            try:
                with urllib.request.urlopen(f"{base_url}/_sandbox/health", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the sandbox server did not become healthy in time") from None
                time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        process.join(30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def daily_interval(shape: Shape) -> Interval:
    """The daily DAG's window for the last day: that day plus its default look-back."""
    return Interval.for_dates(shape.last_day, shape.last_day).widened(timedelta(days=DAILY_LOOKBACK_DAYS))


def sync_all(url: str, interval: Interval, label: str) -> int:
    """One `run_sync` per active integration over `interval`, SYNC_WORKERS at a time; returns rows written.

    Parallel like the DAG's mapped extract tasks: most of a sync's wall clock is the iFood
    report's polling sleep (its first poll always answers "created"), which overlaps freely.
    """
    with psycopg.connect(url) as conn:
        ids = [i.integration_id for i in integrations.list_all(conn, active_only=True)]
    written = 0
    desc = f"extract {interval.first_date}..{interval.last_date}"
    with (
        ThreadPoolExecutor(SYNC_WORKERS) as pool,
        tqdm(total=len(ids), desc=desc, unit=" sync", file=sys.stderr) as bar,
    ):
        futures = [pool.submit(run_sync, url, i, interval, run_label=label) for i in ids]
        for future in as_completed(futures):
            written += future.result().rows_written
            bar.update(1)
            bar.set_postfix(rows=f"{written:,}")
    return written


def store_truth(url: str, truth: list[dict]) -> None:
    """Keep the world's ground truth beside the raw tables, so a cached run needs no world."""
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists bench_truth")
        conn.execute(
            f"create table {TRUTH_TABLE} (tenant_id text, order_id text, status text, reason text, "
            "primary key (tenant_id, order_id))"
        )
        with conn.cursor().copy(f"copy {TRUTH_TABLE} from stdin") as copy:
            for row in truth:
                copy.write_row((row["tenant_id"], row["order_id"], row["status"], row["reason"]))


def hold_last_day(url: str) -> int:
    """Move the rows the last day's syncs wrote out of raw (into bench_hold): the state before that day."""
    moved = 0
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(HOLD_SCHEMA)))
        runs = _last_day_runs(conn)
        for table in RAW_TABLES:
            held = sql.Identifier(HOLD_SCHEMA, table)
            raw = sql.Identifier("raw", table)
            conn.execute(sql.SQL("drop table if exists {}").format(held))
            conn.execute(
                sql.SQL("create table {} as select * from {} where sync_run_id = any(%s)").format(held, raw), (runs,)
            )
            moved += conn.execute(sql.SQL("delete from {} where sync_run_id = any(%s)").format(raw), (runs,)).rowcount
    return moved


def restore_last_day(url: str) -> int:
    """Put the held rows back into raw (what the last day's syncs load); a no-op when nothing is held."""
    restored = 0
    with psycopg.connect(url) as conn:
        exists = conn.execute("select 1 from pg_namespace where nspname = %s", (HOLD_SCHEMA,)).fetchone()
        if not exists:
            return 0
        for table in RAW_TABLES:
            held = sql.Identifier(HOLD_SCHEMA, table)
            present = conn.execute("select to_regclass(%s)", (f"{HOLD_SCHEMA}.{table}",)).fetchone()[0]
            if present:
                restored += conn.execute(
                    sql.SQL("insert into {} select * from {}").format(sql.Identifier("raw", table), held)
                ).rowcount
        conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(HOLD_SCHEMA)))
    return restored


def _last_day_runs(conn: psycopg.Connection) -> list[int]:
    return [r[0] for r in conn.execute("select sync_run_id from ops.sync_runs where run_label = %s", (LAST_DAY_LABEL,))]


def _is_complete(url: str) -> bool:
    """A load finished (its marker table exists): an interrupted load is never reused."""
    with psycopg.connect(url) as conn:
        return conn.execute("select to_regclass('bench_truth.complete')").fetchone()[0] is not None


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]


def _raw_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return sum(conn.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in RAW_TABLES)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
