"""iFood warehouse benchmark: full dbt build, daily incremental run and a one-statement SQL floor.

For each size (`--orders`, repeatable), a sandbox world of about that many orders (with their
financial events, report lines, settlements and bank credits) is loaded into raw through the real
extraction path (cached per size in a database of its own; `--fresh` reloads). Then:

1. full: every dbt output schema dropped, `dbt build --full-refresh` of the iFood models with
   `as_of_date` = the last day, on the raw tables without that day's extraction (the headline);
   before it, the same build with tests excluded (`full_no_tests_s`: seeds, models, snapshot);
2. incremental: that day's extracted rows land, then the daily `dbt build` (no `--full-refresh`)
   with `as_of_date` = the next day, as the daily DAG runs it;
3. floor: one hand-written SQL statement (bench/ifood_floor.py) computing every order's status and
   reason from the same raw tables into an unlogged table;
4. agreement: floor, mart and the sandbox ground truth compared order by order.

"The iFood models" = `+fct_ifood_order_status_transitions`: the holiday seed, the staging and
intermediate models the reconciliation mart needs, the mart, the status snapshot and the
transitions mart, with their tests. Last line (for the largest size):

    BENCH ifood orders=… full_s=… floor_s=… incremental_s=… full_vs_floor=… incremental_vs_full=… agree=…
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import psycopg
from tqdm import tqdm

from bench import ifood_floor
from bench.ifood_load import Loaded, hold_last_day, log, prepare, restore_last_day
from ingestion.dbt_runner import run_dbt
from ingestion.errors import UserError
from ingestion.settings import state_dir
from plugins.providers.registry import RAW_TABLES

SELECT = "+fct_ifood_order_status_transitions"
DAILY_VARS = {"staging_reload_hours": 0}
DBT_SCHEMAS = ("analytics", "staging", "intermediate", "marts", "snapshots", "reference", "seeds")
MART = "marts.fct_ifood_order_reconciliation"


@dataclass
class Figures:
    """What one size measured. Seconds are wall-clock; None when the step failed."""

    orders: int
    raw_rows: int
    load_s: float | None
    full_s: float | None = None
    full_no_tests_s: float | None = None
    full_nodes: dict[str, float] = field(default_factory=dict)
    incremental_s: float | None = None
    incremental_nodes: dict[str, float] = field(default_factory=dict)
    last_day_rows: int = 0
    floor_s: float | None = None
    floor_rows: int = 0
    holidays: str = ""
    agreement: dict[str, float] = field(default_factory=dict)

    @property
    def full_vs_floor(self) -> float | None:
        return ratio(self.full_s, self.floor_s)

    @property
    def incremental_vs_full(self) -> float | None:
        return ratio(self.incremental_s, self.full_s)

    @property
    def full_s_per_100k(self) -> float | None:
        return None if self.full_s is None else self.full_s * 100_000 / self.orders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--orders",
        type=int,
        nargs="+",
        action="extend",
        help="orders to generate; repeat or list several sizes (default 100000)",
    )
    parser.add_argument("--fresh", action="store_true", help="reload the raw tables even when a cached load exists")
    parser.add_argument(
        "--skip-no-tests",
        action="store_true",
        help="skip the separate full build without tests (seeds, models, snapshot) that precedes the headline one",
    )
    parser.add_argument(
        "--reuse-stale",
        action="store_true",
        help="reuse a complete load of the same size even if the sandbox or client code changed since",
    )
    args = parser.parse_args()
    sizes = sorted(set(args.orders or [100_000]))
    print_machine()
    results = [
        bench_size(orders, fresh=args.fresh, skip_no_tests=args.skip_no_tests, reuse_stale=args.reuse_stale)
        for orders in sizes
    ]
    if len(results) > 1:
        print_linearity(results)
    last = results[-1]
    print(
        f"BENCH ifood orders={last.orders} full_s={num(last.full_s)} floor_s={num(last.floor_s)} "
        f"incremental_s={num(last.incremental_s)} full_vs_floor={num(last.full_vs_floor)} "
        f"incremental_vs_full={num(last.incremental_vs_full, 3)} agree={num(last.agreement.get('all'), 4)}"
    )


def bench_size(orders: int, *, fresh: bool, skip_no_tests: bool, reuse_stale: bool) -> Figures:
    """Load (or reuse) one size, then time the full build, the daily run and the floor, and compare."""
    log(f"\n== {orders:,} orders ==")
    loaded = prepare(orders, fresh=fresh, reuse_stale=reuse_stale)
    figures = Figures(loaded.orders, loaded.raw_rows, loaded.load_s)
    shape = loaded.shape
    log(f"raw: {loaded.raw_rows:,} rows for {loaded.orders:,} orders; world {shape}")

    figures.last_day_rows = hold_last_day(loaded.url)
    analyze_raw(loaded.url)
    if not skip_no_tests:
        drop_dbt_outputs(loaded.url)
        figures.full_no_tests_s, _ = timed_dbt(
            loaded.url,
            ("build", "--full-refresh", "--select", SELECT, "--exclude-resource-type", "test", "unit_test"),
            shape.last_day,
            "dbt build --full-refresh, tests excluded",
        )
    drop_dbt_outputs(loaded.url)
    figures.full_s, figures.full_nodes = timed_dbt(
        loaded.url, ("build", "--full-refresh", "--select", SELECT), shape.last_day, "dbt build --full-refresh"
    )

    restore_last_day(loaded.url)
    analyze_raw(loaded.url)
    # The history was loaded minutes ago, not a day before as in production: a reload margin
    # of 0 makes the daily build treat it as older than its margin (what a run a day after
    # the previous load sees with the default 3 h), so only the last day's rows are new.
    figures.incremental_s, figures.incremental_nodes = timed_dbt(
        loaded.url, ("build", "--select", SELECT), shape.as_of, "dbt build (daily)", DAILY_VARS
    )

    figures.floor_s, figures.floor_rows, figures.holidays = timed_floor(loaded.url, shape.as_of)
    figures.agreement = compare(loaded)
    print_size(figures)
    return figures


def timed_dbt(
    url: str, command: tuple[str, ...], as_of: date, label: str, extra_vars: dict | None = None
) -> tuple[float | None, dict[str, float]]:
    """Wall-clock seconds of one dbt invocation, and its node time per resource type (run_results.json).

    Unit tests are left out as in the daily DAG (ingestion/pipeline.py): they check logic on
    fixed inputs and cost the same at every size.
    """
    command = (*command, "--exclude-resource-type", "unit_test") if "unit_test" not in command else command
    started = time.perf_counter()
    try:
        with ticking(f"{label} as of {as_of}"):
            run_dbt(url, command, as_of=as_of, extra_vars=extra_vars, quiet=True)
    except UserError as exc:
        seconds = time.perf_counter() - started
        if only_tests_failed():
            log(f"!!! {label}: some TESTS FAILED (every model built; the time is kept):\n{exc}")
            return seconds, node_seconds()
        log(f"!!! {label} FAILED; no figure for it:\n{exc}")
        return None, node_seconds()
    return time.perf_counter() - started, node_seconds()


def only_tests_failed() -> bool:
    """True when dbt's failures were all data tests: the build itself ran to the end."""
    results = run_results()
    failed = [r for r in results if r.get("status") in ("error", "fail", "skipped")]
    return bool(results) and all(r["unique_id"].split(".", 1)[0] in ("test", "unit_test") for r in failed)


def run_results() -> list[dict]:
    """The last dbt invocation's per-node results (empty when there are none)."""
    path = state_dir() / "dbt-target" / "run_results.json"
    try:
        return json.loads(path.read_text())["results"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return []


def node_seconds() -> dict[str, float]:
    """Sum of dbt's per-node execution times by resource type (model, test, seed, snapshot).

    The profile runs 2 threads, so these add up to more than the wall clock; they show where the
    time goes (e.g. whether tests are significant), not the headline.
    """
    totals: Counter[str] = Counter()
    for result in run_results():
        totals[result["unique_id"].split(".", 1)[0]] += float(result.get("execution_time") or 0)
    return dict(totals)


def timed_floor(url: str, as_of: date) -> tuple[float, int, str]:
    """Seconds of the floor statement (holiday table prepared beforehand, untimed)."""
    with psycopg.connect(url) as conn:
        holidays, origin = ifood_floor.holiday_table(conn)
        conn.commit()
        with ticking(f"floor: one SQL statement as of {as_of}"):
            started = time.perf_counter()
            rows = ifood_floor.run(conn, holidays, ifood_floor.parameters(as_of))
            seconds = time.perf_counter() - started
    log(f"floor: {rows:,} orders in {seconds:.2f}s (holidays: {origin})")
    return seconds, rows, origin


def compare(loaded: Loaded) -> dict[str, float]:
    """Agreement of (status, reason) per order between floor, mart and ground truth; prints the gaps."""
    with psycopg.connect(loaded.url) as conn:
        mart_exists = conn.execute("select to_regclass(%s)", (MART,)).fetchone()[0] is not None
        mart = f"select tenant_id, order_id, status, divergence_reason as reason from {MART}"
        if not mart_exists:
            log(f"!!! {MART} does not exist: every order counts as a disagreement with the mart")
            mart = "select null::text as tenant_id, null::text as order_id, null::text as status, null::text as reason"
        rows = conn.execute(
            f"""
            with floor as (select tenant_id, order_id, status, divergence_reason as reason
                           from {ifood_floor.FLOOR_TABLE}),
                 mart as ({mart}),
                 truth as (select tenant_id, order_id, status, reason from bench_truth.orders),
                 keys as (select tenant_id, order_id from floor union select tenant_id, order_id from mart
                          union select tenant_id, order_id from truth)
            select concat_ws('/', f.status, f.reason), concat_ws('/', m.status, m.reason),
                   concat_ws('/', t.status, t.reason), count(*)
            from keys as k
            left join floor as f using (tenant_id, order_id)
            left join mart as m using (tenant_id, order_id)
            left join truth as t using (tenant_id, order_id)
            where k.tenant_id is not null
            group by 1, 2, 3
            """
        ).fetchall()
    return agreement(rows)


def agreement(rows: list[tuple[str, str, str, int]]) -> dict[str, float]:
    """Pairwise and three-way agreement shares from (floor, mart, truth, orders) groups."""
    total = sum(n for *_, n in rows) or 1
    shares = {
        "floor_mart": sum(n for f, m, _, n in rows if f == m) / total,
        "floor_truth": sum(n for f, _, t, n in rows if f == t) / total,
        "mart_truth": sum(n for _, m, t, n in rows if m == t) / total,
        "all": sum(n for f, m, t, n in rows if f == m == t) / total,
    }
    log("agreement on (status, reason): " + " ".join(f"{k}={v:.4f}" for k, v in shares.items()))
    gaps = sorted((r for r in rows if not r[0] == r[1] == r[2]), key=lambda r: -r[3])
    if gaps:
        log(f"!!! DISAGREEMENTS: {sum(r[3] for r in gaps):,} of {total:,} orders (empty = absent there)")
        log(f"    {'floor':<38} {'mart':<38} {'ground truth':<38} {'orders':>8}")
        for f, m, t, n in gaps[:15]:
            log(f"    {f or '-':<38} {m or '-':<38} {t or '-':<38} {n:>8,}")
        if len(gaps) > 15:
            log(f"    … {len(gaps) - 15} more combinations")
    return shares


def drop_dbt_outputs(url: str) -> None:
    """Drop every schema dbt writes, so the full build (and the snapshot's history) starts from nothing."""
    with psycopg.connect(url, autocommit=True) as conn:
        for schema in DBT_SCHEMAS:
            conn.execute(f'drop schema if exists "{schema}" cascade')


def analyze_raw(url: str) -> None:
    """Fresh planner statistics on raw after rows moved (setup, untimed; autovacuum would get there)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for table in RAW_TABLES:
            conn.execute(f"analyze raw.{table}")


@contextmanager
def ticking(label: str) -> Iterator[None]:
    """An elapsed-time bar for a step that reports no progress of its own (dbt, one SQL statement)."""
    done = threading.Event()
    with tqdm(desc=label, bar_format="{desc}: {elapsed}", file=sys.stderr) as bar:

        def tick() -> None:
            while not done.wait(1):
                bar.refresh()

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()


def print_machine() -> None:
    """Cores, memory, Python and PostgreSQL: the figures mean nothing without them."""
    from ingestion.warehouse import database_url

    with psycopg.connect(database_url()) as conn:
        version = conn.execute("show server_version").fetchone()[0]
        fsync = conn.execute("show fsync").fetchone()[0]
        shared = conn.execute("show shared_buffers").fetchone()[0]
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load1 = os.getloadavg()[0]
    log(
        f"machine: {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}, "
        f"PostgreSQL {version} (fsync={fsync}, shared_buffers={shared}), load average {load1:.2f}"
    )


def print_size(f: Figures) -> None:
    """One line of figures per size (stdout), plus where the dbt time went (stderr)."""
    for label, nodes in (("full", f.full_nodes), ("incremental", f.incremental_nodes)):
        if nodes:
            log(
                f"{label} node seconds (2 threads, summed): "
                + " ".join(f"{k}={v:.1f}" for k, v in sorted(nodes.items()))
            )
    print(
        f"ifood orders={f.orders} raw_rows={f.raw_rows} load_s={num(f.load_s)} full_s={num(f.full_s)} "
        f"full_s_per_100k={num(f.full_s_per_100k)} full_no_tests_s={num(f.full_no_tests_s)} "
        f"last_day_rows={f.last_day_rows} incremental_s={num(f.incremental_s)} floor_s={num(f.floor_s)} "
        f"full_vs_floor={num(f.full_vs_floor)} incremental_vs_full={num(f.incremental_vs_full, 3)} "
        f"agree={num(f.agreement.get('all'), 4)} agree_floor_mart={num(f.agreement.get('floor_mart'), 4)} "
        f"agree_floor_truth={num(f.agreement.get('floor_truth'), 4)} "
        f"agree_mart_truth={num(f.agreement.get('mart_truth'), 4)}",
        flush=True,
    )


def print_linearity(results: list[Figures]) -> None:
    """Full-build seconds per 100k orders across sizes: flat means linear in orders."""
    smallest = results[0]
    for f in results[1:]:
        growth = ratio(f.full_s, smallest.full_s)
        size = f.orders / smallest.orders
        log(
            f"linearity: {smallest.orders:,} → {f.orders:,} orders (×{size:.1f}): full build ×{num(growth)}, "
            f"per 100k {num(smallest.full_s_per_100k)}s → {num(f.full_s_per_100k)}s"
        )


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def num(value: float | None, digits: int = 2) -> str:
    return "nan" if value is None or math.isnan(value) else f"{value:.{digits}f}"


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
