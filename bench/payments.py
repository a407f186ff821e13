"""Payments benchmark (gateways and sales platforms): the hand-written SQL floor, its agreement with the sandbox ground truth, and
(once the models exist) the full and daily dbt builds of `+fct_payment_reconciliation`.

For each size (`--payments`, repeatable), a sandbox world of about that many payments (Stripe,
Mercado Pago, Asaas, PushinPay, and the sales of Hotmart and Kiwify, about the same volume per
platform; iFood sells nothing) is loaded into raw through the real
extraction path (bench/payments_load.py; cached per size and world digest in a database of its
own; `--fresh` reloads). Then:

1. full: every dbt output schema dropped, the last day's rows set aside, `dbt build
   --full-refresh --select +fct_payment_reconciliation` with `as_of_date` = the last day;
2. incremental: the last day's rows put back, the daily `dbt build` of the same selection with
   `as_of_date` = the as-of day;
3. floor: bench/payments_floor.py as of the as-of day, on the full raw tables;
4. agreement: every payment of the floor compared with the sandbox's ground truth
   (`World.facts[name].ground_truth()`), payment by payment, on the canonical status, the
   status and reason, the net, the split parts and the fee findings (for a Hotmart or Kiwify sale
   also `SALES_COMPARED`: its subscription, commissions by role and stated net); disagreements are printed
   with their evidence. Where the mart exists, it is compared too (`agree_floor_mart`,
   `agree_mart_truth`).

Steps 1 and 2 are `dbt_full_build` and `dbt_incremental_build` below: they run only when the dbt
project has a `fct_payment_reconciliation` model and report `n/a` otherwise (the models are being
written on another branch). Last line (for the largest size):

    BENCH payments payments=… full_s=… floor_s=… incremental_s=… full_vs_floor=… incremental_vs_full=… agree=…

`agree` is the share of payments where the floor equals the ground truth on every compared column.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import date

import psycopg

from bench import payments_floor
from bench.ifood import analyze_raw, drop_dbt_outputs, num, print_machine, ratio, ticking, timed_dbt
from bench.payments_load import FAILED_SYNCS, TRUTH_TABLE, Loaded, hold_last_day, log, prepare, restore_last_day
from bench.payments_load import ROOT as PROJECT_ROOT

SELECT = "+fct_payment_reconciliation"
MODEL_NAME = "fct_payment_reconciliation"
MART = "marts.fct_payment_reconciliation"
DAILY_VARS = {"staging_reload_hours": 0}
DEFAULT_PAYMENTS = 50_000
KEY = ("platform", "tenant_id", "payment_id")
# The columns compared payment by payment (floor, truth and mart all name them so).
COMPARED = (
    "payment_status",
    "status",
    "reason",
    "net_amount",
    "platform_fee",
    "affiliate_commission",
    "producer_amount",
    "split_difference",
    "split_mismatch",
    "contracted_fee",
    "fee_difference",
    "overcharge_amount",
    "fee_status",
)
# The sales platforms' columns (the rules' "Sales platforms"), compared for their sales only: the truth
# states them for Hotmart and Kiwify (sandbox.core.payments.truth.SALES_TRUTH_COLUMNS), not for a gateway.
SALES_PLATFORMS = ("hotmart", "kiwify")
SALES_COMPARED = (
    "subscription_id",
    "coproducer_commission",
    "reported_affiliate_commission",
    "reported_coproducer_commission",
    "stated_net_amount",
    "affiliate_difference",
    "coproducer_difference",
    "producer_difference",
)
# What a disagreement prints beside the two answers.
EVIDENCE = (
    "integration",
    "method",
    "installments",
    "gross_amount",
    "fee_amount",
    "split_withheld_amount",
    "expected_release_date",
    "payout_id",
    "payout_amount",
    "payout_date",
    "payout_deadline",
    "bank_transaction_id",
    "bank_credit_date",
    "rule",
)


@dataclass
class Figures:
    """What one size measured. Seconds are wall-clock; None when not measured (n/a) or failed."""

    payments: int
    raw_rows: int
    load_s: float | None
    full_s: float | None = None
    incremental_s: float | None = None
    last_day_rows: int = 0
    floor_s: float | None = None
    floor_rows: int = 0
    agreement: dict[str, float | None] = field(default_factory=dict)

    @property
    def full_vs_floor(self) -> float | None:
        return ratio(self.full_s, self.floor_s)

    @property
    def incremental_vs_full(self) -> float | None:
        return ratio(self.incremental_s, self.full_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--payments",
        type=int,
        nargs="+",
        action="extend",
        help=f"payments (gateway payments and sales) to generate; repeat or list several sizes (default {DEFAULT_PAYMENTS})",
    )
    parser.add_argument("--fresh", action="store_true", help="reload the raw tables even when a cached load exists")
    parser.add_argument(
        "--reuse-stale",
        action="store_true",
        help="reuse a complete load of the same size even if the sandbox or client code changed since",
    )
    args = parser.parse_args()
    sizes = sorted(set(args.payments or [DEFAULT_PAYMENTS]))
    print_machine()
    results = [bench_size(n, fresh=args.fresh, reuse_stale=args.reuse_stale) for n in sizes]
    last = results[-1]
    print(
        f"BENCH payments payments={last.payments} full_s={na(last.full_s)} floor_s={na(last.floor_s)} "
        f"incremental_s={na(last.incremental_s)} full_vs_floor={na(last.full_vs_floor)} "
        f"incremental_vs_full={na(last.incremental_vs_full, 3)} agree={na(last.agreement.get('floor_truth'), 4)}"
    )


def bench_size(payments: int, *, fresh: bool, reuse_stale: bool) -> Figures:
    """Load (or reuse) one size, then time the dbt builds (when the models exist) and the floor, and compare."""
    log(f"\n== about {payments:,} payments (gateways and sales platforms) ==")
    loaded = prepare(payments, fresh=fresh, reuse_stale=reuse_stale)
    figures = Figures(loaded.payments, loaded.raw_rows, loaded.load_s)
    log(f"raw: {loaded.raw_rows:,} rows for {loaded.payments:,} payments; world {loaded.shape}")

    figures.full_s, figures.last_day_rows = dbt_full_build(loaded)
    figures.incremental_s = dbt_incremental_build(loaded)

    analyze_raw(loaded.url)
    figures.floor_s, figures.floor_rows = timed_floor(loaded.url, loaded.shape.as_of)
    figures.agreement = compare(loaded.url)
    print_size(figures)
    return figures


# ------------------------------------------------------------------------------------------ dbt
# LEAD: the two functions below are modelled on bench/ifood.py (same timing, same daily vars) and
# run only once the dbt project has a `fct_payment_reconciliation` model; until then they report
# n/a. Check the selection (SELECT) and DAILY_VARS against the gateway models when they land, then
# record their figures in docs/benchmarks.md.


def models_exist() -> bool:
    """True when the dbt project defines the reconciliation mart (looked up by file name only)."""
    return any((PROJECT_ROOT / "dbt" / "models").rglob(f"{MODEL_NAME}.sql"))


def dbt_full_build(loaded: Loaded) -> tuple[float | None, int]:
    """Seconds of `dbt build --full-refresh --select +fct_payment_reconciliation` as of the last day, on raw
    without the last day's rows (every dbt output schema dropped first), and the rows set aside; (None, 0): n/a.

    The last day's rows stay aside until `dbt_incremental_build` puts them back.
    """
    if not models_exist():
        log(f"full dbt build: n/a (no {MODEL_NAME} model in dbt/models yet)")
        return None, 0
    held = hold_last_day(loaded.url, loaded.shape.last_day)
    analyze_raw(loaded.url)
    drop_dbt_outputs(loaded.url)
    seconds, nodes = timed_dbt(
        loaded.url, ("build", "--full-refresh", "--select", SELECT), loaded.shape.last_day, "dbt build --full-refresh"
    )
    log_nodes("full", nodes)
    return seconds, held


def dbt_incremental_build(loaded: Loaded) -> float | None:
    """Seconds of the daily `dbt build --select +fct_payment_reconciliation` as of the as-of day, after the
    last day's rows are put back into raw; None: n/a (no model) or failed."""
    if not models_exist():
        log(f"incremental dbt build: n/a (no {MODEL_NAME} model in dbt/models yet)")
        restore_last_day(loaded.url)
        return None
    restore_last_day(loaded.url)
    analyze_raw(loaded.url)
    seconds, nodes = timed_dbt(
        loaded.url, ("build", "--select", SELECT), loaded.shape.as_of, "dbt build (daily)", DAILY_VARS
    )
    log_nodes("incremental", nodes)
    return seconds


def log_nodes(label: str, nodes: dict[str, float]) -> None:
    if nodes:
        log(f"{label} node seconds (2 threads, summed): " + " ".join(f"{k}={v:.1f}" for k, v in sorted(nodes.items())))


# ---------------------------------------------------------------------------------------- floor


def timed_floor(url: str, as_of: date) -> tuple[float, int]:
    """Seconds of the floor's statements as of `as_of`, and the payments it wrote."""
    with psycopg.connect(url) as conn:
        with ticking(f"floor: hand-written SQL as of {as_of}"):
            started = time.perf_counter()
            rows = payments_floor.run(conn, payments_floor.parameters(as_of))
            seconds = time.perf_counter() - started
    log(f"floor: {rows:,} payments in {seconds:.2f}s")
    return seconds, rows


# ------------------------------------------------------------------------------------ agreement


@dataclass(frozen=True)
class Disagreement:
    """One payment on which two readings differ: the columns that differ, both rows."""

    key: tuple[str, str, str]
    columns: tuple[str, ...]
    left: dict | None  # None: the payment is absent there
    right: dict | None


def rows_of(conn: psycopg.Connection, table: str) -> dict[tuple[str, str, str], dict]:
    """A reading's rows by (platform, tenant, payment), with the compared and evidence columns it has."""
    schema, name = table.split(".")
    present = {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (schema, name),
        )
    }
    wanted = [c for c in (*KEY, *COMPARED, *SALES_COMPARED, *EVIDENCE) if c in present]
    cur = conn.execute(f"select {', '.join(wanted)} from {table}")
    return {tuple(r[:3]): dict(zip(wanted, r, strict=True)) for r in cur}


def differences(left: dict[tuple, dict], right: dict[tuple, dict]) -> list[Disagreement]:
    """Every payment on which the two readings differ on a compared column (or that one of them lacks)."""
    found = []
    for key in sorted(left.keys() | right.keys()):
        a, b = left.get(key), right.get(key)
        if a is None or b is None:
            found.append(Disagreement(key, ("(absent)",), a, b))
            continue
        compared = (*COMPARED, *SALES_COMPARED) if key[0] in SALES_PLATFORMS else COMPARED
        columns = tuple(c for c in compared if c in a and c in b and a[c] != b[c])
        if columns:
            found.append(Disagreement(key, columns, a, b))
    return found


def compare(url: str) -> dict[str, float | None]:
    """Agreement of the floor with the ground truth (and of the mart with both, when it exists); prints gaps."""
    with psycopg.connect(url) as conn:
        floor = rows_of(conn, payments_floor.FLOOR_TABLE)
        truth = rows_of(conn, TRUTH_TABLE)
        mart_exists = conn.execute("select to_regclass(%s)", (MART,)).fetchone()[0] is not None
        mart = rows_of(conn, MART) if mart_exists else None
    total = len(floor.keys() | truth.keys()) or 1
    gaps = differences(floor, truth)
    shares: dict[str, float | None] = {"floor_truth": 1 - len(gaps) / total, "floor_mart": None, "mart_truth": None}
    report("floor", "ground truth", gaps, total)
    if mart is not None:
        shares["floor_mart"] = 1 - len(differences(floor, mart)) / total
        mart_gaps = differences(mart, truth)
        shares["mart_truth"] = 1 - len(mart_gaps) / total
        report("mart", "ground truth", mart_gaps, total)
    else:
        log(f"{MART} does not exist yet: the mart is not compared")
    if FAILED_SYNCS:
        log(f"!!! {len(FAILED_SYNCS)} sync(s) failed while loading: their payments are missing from raw")
    log("agreement: " + " ".join(f"{k}={na(v, 4)}" for k, v in shares.items()))
    return shares


def report(left_name: str, right_name: str, gaps: list[Disagreement], total: int, samples: int = 3) -> None:
    """The disagreements grouped by platform and differing columns, a few of each with their evidence."""
    if not gaps:
        log(f"{left_name} == {right_name} on every one of {total:,} payments")
        return
    log(f"!!! {left_name} vs {right_name}: {len(gaps):,} of {total:,} payments differ")
    groups: dict[tuple[str, tuple[str, ...]], list[Disagreement]] = {}
    for gap in gaps:
        groups.setdefault((gap.key[0], gap.columns), []).append(gap)
    for (platform, columns), members in sorted(groups.items(), key=lambda item: -len(item[1])):
        log(f"  {platform}: {len(members):,} differ on {', '.join(columns)}")
        for gap in members[:samples]:
            log(f"    {gap.key[1]} {gap.key[2]}")
            for name, row in ((left_name, gap.left), (right_name, gap.right)):
                log(f"      {name:>12}: {describe(row, columns)}")


def describe(row: dict | None, columns: tuple[str, ...]) -> str:
    if row is None:
        return "(absent)"
    shown = [c for c in (*columns, "payment_status", "status", "reason", *EVIDENCE) if c in row and c != "(absent)"]
    return " ".join(f"{c}={row[c]}" for c in dict.fromkeys(shown))


# -------------------------------------------------------------------------------------- printing


def print_size(f: Figures) -> None:
    """One line of figures per size (stdout)."""
    print(
        f"payments payments={f.payments} raw_rows={f.raw_rows} load_s={na(f.load_s)} full_s={na(f.full_s)} "
        f"last_day_rows={f.last_day_rows} incremental_s={na(f.incremental_s)} floor_s={na(f.floor_s)} "
        f"floor_rows={f.floor_rows} full_vs_floor={na(f.full_vs_floor)} "
        f"incremental_vs_full={na(f.incremental_vs_full, 3)} agree={na(f.agreement.get('floor_truth'), 4)} "
        f"agree_floor_mart={na(f.agreement.get('floor_mart'), 4)} "
        f"agree_mart_truth={na(f.agreement.get('mart_truth'), 4)}",
        flush=True,
    )


def na(value: float | None, digits: int = 2) -> str:
    """A figure, or `n/a` when it was not measured."""
    return "n/a" if value is None else num(value, digits)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
