"""The payments benchmark's data: a sandbox world of about N payments, loaded into raw through the product path.

Modelled on `bench/ifood_load.py`. The world's four gateways (Stripe, Mercado Pago, Asaas,
PushinPay) sell through the tenants' checkout, and its two sales platforms (Hotmart, Kiwify: the
merchants of record) sell the tenants' products, each platform about the same volume per store;
iFood sells nothing (`orders_per_day` 0). The world is served by the sandbox server (a child
process, rate limits off) and extracted by the real providers through `ingestion.sync.run_sync`,
one sync per integration, into a database of its own on the bench's warehouse:

1. the integrations the sandbox lists are registered (`cli.demo.register_sandbox_integrations`),
   the tenants' contracts loaded (`ingestion.contracts.load(World.contracts())`);
2. the webhooks of every platform whose syncs re-read what webhooks name (`known_ids_from`:
   PushinPay, which has no list endpoint, so a charge becomes known by its webhook; Hotmart and
   Kiwify, whose refunds and chargebacks of paid sales are notified, and whose Hotmart refund date
   is the notification's) land through `ingestion.webhook_landing.land` with `received_at` = the
   delivery's `sent_at` (world time);
3. the history (START .. the day before the last) is synced, then the last day by its own syncs
   (labelled `bench-last-day`, the daily DAG's window with its look-back), with the last day's
   deliveries landed just before them. `hold_last_day` / `restore_last_day` set those rows aside
   and put them back, for the lead's incremental dbt timing.

Those syncs re-read "the ids seen in the interval" (`ingestion.sync.known_ids`), and "seen" is when
the platform delivered the notification (`received_at`, the world's time of the replayed
delivery), so their syncs run over the world's dates like every other provider's. iFood's integrations are
registered but not synced: it sells nothing here, and each of its syncs would wait on its
reconciliation report's polling for nothing.

Loading is setup, not a headline figure: the loaded database (named after the size and a digest
of everything that shapes the rows) is kept and reused by the next run; `--fresh` reloads. The
ground truth (`World.facts[name].ground_truth()` of each platform; the sales platforms' rows carry
the sales columns too) is stored beside the raw tables in `bench_truth.payments`, so a cached run
needs no world.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql
from tqdm import tqdm

from bench.ifood_load import DAILY_LOOKBACK_DAYS, _free_port, log, served
from ingestion import contracts, integrations
from ingestion.sync import run_sync
from ingestion.vault import Keyring
from ingestion.warehouse import create_database, database_url, drop_database, ensure_schema, with_database
from ingestion.webhook_landing import land
from plugins.providers.base import BUSINESS_TZ, Interval
from plugins.providers.registry import RAW_TABLES
from sandbox.options import ServerOptions
from sandbox.world import World, WorldConfig

ROOT = Path(__file__).resolve().parent.parent
GATEWAYS = ("stripe", "mercadopago", "asaas", "pushinpay")
SALES_PLATFORMS = ("hotmart", "kiwify")  # merchants of record (the rules' "Sales platforms")
PLATFORMS = (*GATEWAYS, *SALES_PLATFORMS)  # every platform whose payments the benchmark reconciles
SYNCED = ("pluggy", *PLATFORMS)  # iFood sells nothing in this world: its integrations are not synced
START = date(2026, 10, 1)
DAYS = 61  # 2026-10-01 .. 2026-11-30: holidays Oct 12, Nov 2, Nov 20; card releases (30 days) fall inside
ORDERS_PER_GATEWAY_DAY = 10  # checkout orders per store, platform and business day (each platform's knob)
# Payments per checkout order, over the six platforms: Asaas splits a card order in N installments into
# N payments, a Hotmart or Kiwify order with its bump is two sales and their subscriptions charge renewals
# (measured on small worlds of this shape: ~1.25).
PAYMENTS_PER_ORDER = 1.25
BUSINESS_DAYS = 40  # Mon-Fri in the 61 days, less the three holidays
STORES_PER_TENANT = 5
BANK_NOISE_PER_DAY = 2
SYNC_WORKERS = 4
HISTORY_LABEL = "bench-payments-history"
LAST_DAY_LABEL = "bench-payments-last-day"
HOLD_SCHEMA = "bench_hold"
TRUTH_TABLE = "bench_truth.payments"
DATABASE_PREFIX = "conciliador_bench_payments"
# Everything whose change changes the loaded rows (see bench/ifood_load.py); bump LOAD_VERSION when
# this module's own loading procedure changes.
SOURCES = (
    "sandbox/**/*.py",
    "plugins/providers/**/*.py",
    "ingestion/raw_writer.py",
    "ingestion/sync.py",
    "ingestion/webhook_landing.py",
    "ingestion/contracts.py",
)
LOAD_VERSION = 2  # 2: Hotmart and Kiwify sell too (their webhooks replayed, their truth stored)
FAILED_SYNCS: list[str] = []  # this process's failed syncs, "provider tenant/name (label): error"
SERVER_OPTIONS = ServerOptions().with_rate_limit(None)

# The ground truth's columns (sandbox.core.payments.truth.TRUTH_COLUMNS) and their SQL types.
TRUTH_TYPES = {
    "platform": "text",
    "tenant_id": "text",
    "integration": "text",
    "payment_id": "text",
    "order_id": "text",
    "method": "text",
    "installments": "integer",
    "payment_status": "text",
    "gross_amount": "numeric(18, 2)",
    "fee_amount": "numeric(18, 2)",
    "split_withheld_amount": "numeric(18, 2)",
    "net_amount": "numeric(18, 2)",
    "expected_release_date": "date",
    "payout_id": "text",
    "payout_amount": "numeric(18, 2)",
    "payout_date": "date",
    "payout_deadline": "date",
    "bank_transaction_id": "text",
    "bank_credit_date": "date",
    "status": "text",
    "reason": "text",
    "rule": "integer",
    "days_late": "integer",
    "platform_fee": "numeric(18, 2)",
    "affiliate_commission": "numeric(18, 2)",
    "producer_amount": "numeric(18, 2)",
    "split_difference": "numeric(18, 2)",
    "split_mismatch": "boolean",
    "contracted_fee": "numeric(18, 2)",
    "fee_difference": "numeric(18, 2)",
    "overcharge_amount": "numeric(18, 2)",
    "fee_status": "text",
    # the sales platforms' columns (sandbox.core.payments.truth.SALES_TRUTH_COLUMNS); null for a gateway
    "subscription_id": "text",
    "coproducer_commission": "numeric(18, 2)",
    "reported_affiliate_commission": "numeric(18, 2)",
    "reported_coproducer_commission": "numeric(18, 2)",
    "stated_net_amount": "numeric(18, 2)",
    "affiliate_difference": "numeric(18, 2)",
    "coproducer_difference": "numeric(18, 2)",
    "producer_difference": "numeric(18, 2)",
}


@dataclass(frozen=True)
class Shape:
    """How about N payments are laid out in the sandbox world (sizes grow by adding stores)."""

    tenants: int
    stores_per_tenant: int
    days: int
    orders_per_day: int  # per store, platform and business day

    @classmethod
    def for_payments(cls, payments: int) -> Shape:
        per_store = ORDERS_PER_GATEWAY_DAY * len(PLATFORMS) * BUSINESS_DAYS * PAYMENTS_PER_ORDER
        stores = max(1, round(payments / per_store))
        tenants = math.ceil(stores / STORES_PER_TENANT)
        per_tenant = math.ceil(stores / tenants)
        per_day = max(1, round(payments / (tenants * per_tenant * len(PLATFORMS) * BUSINESS_DAYS * PAYMENTS_PER_ORDER)))
        return cls(tenants, per_tenant, DAYS, per_day)

    def config_kwargs(self) -> dict[str, object]:
        return {
            "seed": 2026,
            "tenants": self.tenants,
            "stores_per_tenant": self.stores_per_tenant,
            "start": START,
            "days": self.days,
            "orders_per_day": 0,  # iFood sells nothing: this is the gateways' and sales platforms' benchmark
            "bank_noise_per_day": BANK_NOISE_PER_DAY,
            **{f"{name}_orders_per_day": self.orders_per_day for name in PLATFORMS},
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
    """A bench database holding the raw tables, the contracts and the ground truth for one size."""

    url: str
    shape: Shape
    payments: int
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


def database_name(payments: int, shape: Shape) -> str:
    return f"{DATABASE_PREFIX}_{payments}_{cache_digest(shape)}"


def prepare(payments: int, *, fresh: bool, reuse_stale: bool = False, shape: Shape | None = None) -> Loaded:
    """The bench database for about `payments` payments: reused when a complete load of the same world exists.

    `shape` overrides the layout `Shape.for_payments` picks (the test's small world). With
    `reuse_stale`, a complete load of this size from older sources is reused too.
    """
    shape = shape or Shape.for_payments(payments)
    name = database_name(payments, shape)
    server = database_url()
    with psycopg.connect(server, autocommit=True) as conn:
        loads = [
            row[0]
            for row in conn.execute(
                "select datname from pg_database where datname ~ %s order by datname",
                (f"^{DATABASE_PREFIX}_{payments}_[0-9a-f]{{8}}$",),
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
            FAILED_SYNCS[:] = _failed_syncs(url)
            for failure in FAILED_SYNCS:
                log(f"!!! that load had a failed sync: {failure}")
            return Loaded(url, shape, _count(url, TRUTH_TABLE), None, _raw_rows(url))
    for old in loads:  # this size's loads of an older world (or a load that did not finish)
        drop_database(old)
    url = create_database(name)
    ensure_schema(url)
    started = time.perf_counter()
    FAILED_SYNCS.clear()
    n_payments = load(url, shape)
    load_s = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        conn.execute(
            "create table bench_truth.complete (loaded_at timestamptz default now(), load_s float8, failed_syncs text[])"
        )
        conn.execute("insert into bench_truth.complete (load_s, failed_syncs) values (%s, %s)", (load_s, FAILED_SYNCS))
    return Loaded(url, shape, n_payments, load_s, _raw_rows(url))


def load(url: str, shape: Shape) -> int:
    """Generate the world, serve it, land PushinPay's webhooks, extract every day into raw; store the
    contracts and the ground truth. Returns the number of payments."""
    from cli.demo import register_sandbox_integrations

    config = WorldConfig(**shape.config_kwargs())
    server = start_server(config)  # builds its own copy of the world meanwhile
    started = time.perf_counter()
    world = World(config)
    truth = [row for name in PLATFORMS for row in world.facts[name].ground_truth()]
    counts = ", ".join(f"{name} {len(world.facts[name].payments):,}" for name in PLATFORMS)
    log(f"generated the world: {len(truth):,} payments ({counts}), {shape} ({time.perf_counter() - started:.1f}s)")
    store_truth(url, truth)
    with psycopg.connect(url) as conn:
        loaded = contracts.load(conn, world.contracts())
    log(f"contracts: {loaded}")
    history = Interval.for_dates(START, shape.last_day - timedelta(days=1))
    last_day = Interval.for_dates(shape.last_day, shape.last_day).widened(timedelta(days=DAILY_LOOKBACK_DAYS))
    world_end = datetime.combine(shape.as_of, datetime.min.time(), BUSINESS_TZ)
    with served(server) as base_url:
        register_sandbox_integrations(url, world.credentials(base_url))
        landed = land_webhooks(url, world, world_end, before=shape.last_day)
        sync_all(url, history, HISTORY_LABEL, landed)
        landed = land_webhooks(url, world, world_end, on=shape.last_day)
        sync_all(url, last_day, LAST_DAY_LABEL, landed)
    return len(truth)


def start_server(config: WorldConfig) -> tuple:
    """The sandbox server for `config` in a child process; returns (process, port)."""
    import multiprocessing

    from sandbox.server import serve

    port = _free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=serve,
        args=(config,),
        kwargs={"host": "127.0.0.1", "port": port, "options": SERVER_OPTIONS},
        name="bench-payments-sandbox",
        daemon=True,
    )
    process.start()
    return process, port


def land_webhooks(
    url: str, world: World, now: datetime, *, before: date | None = None, on: date | None = None
) -> set[str]:
    """Land, as the webhook sink would, the notifications of the providers whose syncs re-read what
    webhooks name (`known_ids_from`: PushinPay, whose charges are known only so, and Hotmart and Kiwify,
    whose refunds and chargebacks of paid sales are), sent before `before` (or on `on`; São Paulo dates
    of `sent_at`), each with `received_at` = its `sent_at`. Returns the providers that had any."""
    from plugins.providers.registry import PROVIDERS
    from sandbox.registry import platform

    keyring = Keyring.load()
    with psycopg.connect(url) as conn:
        todo = []
        for i in integrations.list_all(conn, active_only=True):
            renderer = platform(i.provider).webhooks if i.provider in world.facts else None
            if PROVIDERS[i.provider].known_ids_from is None or renderer is None:
                continue
            for delivery in renderer(world.facts[i.provider], i.name, now=now):
                day = delivery.sent_at.astimezone(BUSINESS_TZ).date()
                if (before is not None and day < before) or (on is not None and day == on):
                    todo.append((i.integration_id, i.provider, delivery))
        for integration_id, _, delivery in tqdm(todo, desc="land webhooks", unit=" delivery", file=sys.stderr):
            land(
                conn,
                integration_id,
                delivery.headers,
                delivery.query,
                delivery.body,
                keyring=keyring,
                received_at=delivery.sent_at,
            )
    return {provider for _, provider, _ in todo}


def sync_all(url: str, interval: Interval, label: str, landed: set[str]) -> int:
    """One `run_sync` per active integration of SYNCED over `interval`, SYNC_WORKERS at a time; PushinPay's
    only when its webhooks landed some (`landed`: no charge became known otherwise); returns rows written.

    A sync that fails is reported (FAILED_SYNCS, and in the load's marker) and the others go on: a
    platform whose extraction fails against the sandbox then shows as disagreements with the truth,
    rather than stopping the benchmark of the others.
    """
    with psycopg.connect(url) as conn:
        found = [i for i in integrations.list_all(conn, active_only=True) if i.provider in SYNCED]
    jobs = [(i, interval) for i in found if i.provider != "pushinpay" or "pushinpay" in landed]
    written = 0
    desc = f"extract {interval.first_date}..{interval.last_date}"
    with (
        ThreadPoolExecutor(SYNC_WORKERS) as pool,
        tqdm(total=len(jobs), desc=desc, unit=" sync", file=sys.stderr) as bar,
    ):
        futures = {pool.submit(run_sync, url, i.integration_id, window, run_label=label): i for i, window in jobs}
        for future in as_completed(futures):
            try:
                written += future.result().rows_written
            except Exception as exc:  # one provider's failure is reported, the others still load
                i = futures[future]
                FAILED_SYNCS.append(f"{i.provider} {i.tenant_id}/{i.name} ({label}): {type(exc).__name__}: {exc}")
                log(f"!!! sync failed: {FAILED_SYNCS[-1]}")
            bar.update(1)
            bar.set_postfix(rows=f"{written:,}")
    return written


def store_truth(url: str, truth: Iterable[dict]) -> None:
    """Keep the gateways' ground truth beside the raw tables, so a cached run needs no world."""
    columns = list(TRUTH_TYPES)
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists bench_truth")
        conn.execute(
            f"create table {TRUTH_TABLE} ("
            + ", ".join(f"{c} {t}" for c, t in TRUTH_TYPES.items())
            + ", primary key (platform, tenant_id, payment_id))"
        )
        with conn.cursor().copy(f"copy {TRUTH_TABLE} ({', '.join(columns)}) from stdin") as copy:
            for row in truth:
                copy.write_row([_plain(row.get(c)) for c in columns])  # a gateway has no sales columns


def _plain(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


def hold_last_day(url: str, last_day: date) -> int:
    """Move what the last day brought out of raw (into bench_hold): the rows of its syncs and the webhook
    rows received on it. What is left is the raw state before that day."""
    moved = 0
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(HOLD_SCHEMA)))
        runs = [
            r[0] for r in conn.execute("select sync_run_id from ops.sync_runs where run_label = %s", (LAST_DAY_LABEL,))
        ]
        since = datetime.combine(last_day, datetime.min.time(), BUSINESS_TZ)
        for table in RAW_TABLES:
            held = sql.Identifier(HOLD_SCHEMA, table)
            raw = sql.Identifier("raw", table)
            where = sql.SQL("sync_run_id = any(%(runs)s) or (source = 'webhook' and received_at >= %(since)s)")
            params = {"runs": runs, "since": since}
            conn.execute(sql.SQL("drop table if exists {}").format(held))
            conn.execute(sql.SQL("create table {} as select * from {} where {}").format(held, raw, where), params)
            moved += conn.execute(sql.SQL("delete from {} where {}").format(raw, where), params).rowcount
    return moved


def restore_last_day(url: str) -> int:
    """Put the held rows back into raw; a no-op when nothing is held."""
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


def _is_complete(url: str) -> bool:
    """A load finished (its marker table exists): an interrupted load is never reused."""
    with psycopg.connect(url) as conn:
        return conn.execute("select to_regclass('bench_truth.complete')").fetchone()[0] is not None


def _failed_syncs(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return list(conn.execute("select coalesce(failed_syncs, '{}') from bench_truth.complete").fetchone()[0])


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]


def _raw_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return sum(conn.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in RAW_TABLES)
