"""`conciliador demo`: one generated month, end to end, on the embedded warehouse.

Generates the sandbox world, serves its fake provider APIs on a loopback port, registers one
integration per tenant and registered provider the sandbox serves, pointing at them, runs the real daily DAG with
`airflow dags test` over the month, then prints the status distribution of the mart next to
the world's ground truth. Every step is idempotent, so the demo can be run again.

The demo writes into a database of its own (`conciliador_demo`) on the same server, never into
the product warehouse, and that database holds exactly one world: its comment names the
world's digest, and a demo with another world (another seed, another sandbox version) drops
and recreates it first. Two worlds never mix.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import psycopg
import typer
from psycopg import sql
from rich.console import Console
from rich.table import Table

from cli.arguments import parse_date
from ingestion import integrations
from ingestion.airflow_runner import dag_test, ensure_metadata_db
from ingestion.errors import UserError
from ingestion.vault import Keyring
from ingestion.warehouse import admin_url, create_database, ensure_schema, prepare_warehouse, with_database
from plugins.providers.registry import PROVIDERS
from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig

STATUSES = ("reconciled", "awaiting_settlement", "sales_only", "divergent", "cancelled")
DEMO_DATABASE = "conciliador_demo"
console = Console(stderr=True)


@contextmanager
def step(label: str) -> Iterator[None]:
    started = time.perf_counter()
    with console.status(f"[bold]{label}…"):
        yield
    console.print(f"[green]✓[/green] {label} [dim]({time.perf_counter() - started:.1f}s)[/dim]")


def demo_command(
    start: Annotated[str, typer.Option(help="First day of the generated month.")] = "2026-10-01",
    days: Annotated[int, typer.Option(min=1, max=366)] = 30,
    tenants: Annotated[int, typer.Option(min=1, max=50)] = 2,
    stores_per_tenant: Annotated[int, typer.Option(min=1, max=50)] = 2,
    orders_per_day: Annotated[int, typer.Option(min=1, max=10_000)] = 40,
    seed: Annotated[int, typer.Option()] = 42,
) -> None:
    """Generate a month, run the daily DAG over it and show the reconciliation."""
    config = WorldConfig(
        seed=seed,
        tenants=tenants,
        stores_per_tenant=stores_per_tenant,
        start=parse_date(start, "--start"),
        days=days,
        orders_per_day=orders_per_day,
    )
    with step("Starting the warehouse"):
        server_url = prepare_warehouse()
    with step("Preparing Airflow metadata"):
        ensure_metadata_db()
    with step(f"Generating the sandbox world ({tenants} tenants × {stores_per_tenant} stores × {days} days)"):
        world = World(config)
    with step(f"Preparing the demo database {DEMO_DATABASE} for this world"):
        url = demo_warehouse(server_url, world)
    # Everything after this point (the Airflow subprocess, dbt) works in the demo database.
    os.environ["DATABASE_URL"] = url
    base_url, stop = start_in_thread(world, port=0)
    try:
        with step(f"Registering integrations against the sandbox at {base_url}"):
            added = register_sandbox_integrations(url, world.credentials(base_url))
        with step("Landing the webhooks of the platforms whose syncs re-read what they name (as the sink would)"):
            replay_sandbox_webhooks(url, world, added)
        with step("Loading the tenants' contracts (split rates, gateway fees)"):
            load_sandbox_contracts(url, world)
        last_day = config.start + timedelta(days=days - 1)
        with step(f"Running the daily DAG for {last_day} with a {days - 1}-day look-back (extract → dbt build)"):
            dag_test(last_day, conf={"lookback_days": days - 1})
    finally:
        stop()
    report(url, world)


def demo_warehouse(server_url: str, world: World, *, database: str = DEMO_DATABASE) -> str:
    """The URL of the demo's own database, holding `world` and nothing else.

    The database comment records the world's digest; when it names another world (or the
    database predates the comment), the database is dropped and created anew. Creating and
    labelling databases is the bootstrap role's job (`admin_url`); the pipeline's role owns it.
    """
    label = f"conciliador sandbox world {world.digest()[:16]}"
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        row = conn.execute(
            "select shobj_description(oid, 'pg_database') from pg_database where datname = %s", (database,)
        ).fetchone()
    if row is not None and row[0] == label:
        url = with_database(server_url, database)
    else:
        if row is not None:
            console.print(f"[yellow]{database} held another sandbox world; resetting it.[/yellow]")
        try:
            url = create_database(database, replace=True)
        except psycopg.errors.InsufficientPrivilege:
            raise UserError(
                f"The demo needs a database of its own ({database}) and this role may not create one; "
                f"create it (owned by this role) or grant CREATEDB, then run the demo again."
            ) from None
        with psycopg.connect(admin_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("comment on database {} is {}").format(sql.Identifier(database), sql.Literal(label)))
    ensure_schema(url)
    return url


def register_sandbox_integrations(url: str, credentials: dict) -> list[tuple[str, str, integrations.Integration]]:
    """One integration per tenant and provider account, pointed at the sandbox; fields come from the registry.

    The providers are those the sandbox serves credentials for that the registry knows (a tenant's
    other keys, such as `tenant_id`, are not providers), in the order the sandbox lists them.
    Returns (provider, account name, integration) for each.
    """
    keyring = Keyring.load()
    added = []
    with psycopg.connect(url) as conn:
        for tenant in credentials["tenants"]:
            for provider in (name for name in tenant if name in PROVIDERS):
                cls = PROVIDERS[provider]
                for name, given in sandbox_accounts(tenant[provider]):
                    integration = integrations.add(
                        conn,
                        keyring,
                        tenant_id=tenant["tenant_id"],
                        provider=provider,
                        name=name,
                        credentials={field: given[field] for field in cls.credential_fields},
                        external_ids={field: given[field] for field in cls.external_id_fields},
                        base_url=credentials["base_urls"][provider],
                        webhook_secret=given.get("webhook_secret"),
                    )
                    added.append((provider, name, integration))
    return added


def replay_sandbox_webhooks(url: str, world: World, added: list[tuple[str, str, integrations.Integration]]) -> int:
    """Land, as the webhook sink would have, the notifications the sandbox's platforms sent to the
    integrations whose syncs re-read what webhooks name (providers with `known_ids_from`: a platform
    with no list endpoint, or one whose objects change after the days its listing covers, such as
    a sales platform's refunds), each at the world time it was sent. Redeliveries land nothing. Returns deliveries landed."""
    from ingestion.webhook_landing import land
    from sandbox.registry import platform

    now = datetime.now(UTC)
    landed = 0
    keyring = Keyring.load()
    with psycopg.connect(url) as conn:
        for provider, name, integration in added:
            renderer = platform(provider).webhooks
            if PROVIDERS[provider].known_ids_from is None or renderer is None:
                continue
            for delivery in renderer(world.facts[provider], name, now=now):
                land(
                    conn,
                    integration.integration_id,
                    delivery.headers,
                    delivery.query,
                    delivery.body,
                    keyring=keyring,
                    received_at=delivery.sent_at or now,
                )
                landed += 1
    return landed


def load_sandbox_contracts(url: str, world: World) -> dict[str, int]:
    """The tenants' contracts with the platforms (split rates, gateway fee schedules) into control tables."""
    from ingestion import contracts

    with psycopg.connect(url) as conn:
        return contracts.load(conn, world.contracts())


def sandbox_accounts(given: dict) -> list[tuple[str, dict]]:
    """(integration name, fields) per account: one integration for the tenant's application
    (iFood, Pluggy), or one per account where the sandbox lists several (a gateway account per store)."""
    if "accounts" in given:
        return [(account["name"], account) for account in given["accounts"]]
    return [("sandbox", given)]


@dataclass(frozen=True)
class Agreement:
    """How the mart's rows compare with the ground truth, counted once so the verdict cannot
    contradict the numbers printed beside it."""

    truth: int
    matching: int
    differing: int
    missing: int
    unknown: int

    @classmethod
    def of(cls, truth: dict[tuple[str, str], dict], rows: list[tuple]) -> Agreement:
        matching = differing = unknown = 0
        for tenant_id, order_id, status, reason in rows:
            expected = truth.get((tenant_id, order_id))
            if expected is None:
                unknown += 1
            elif (expected["status"], expected["reason"]) == (status, reason):
                matching += 1
            else:
                differing += 1
        return cls(len(truth), matching, differing, len(truth) - matching - differing, unknown)

    @property
    def all_match(self) -> bool:
        return self.matching == self.truth and not self.unknown

    def line(self, noun: str = "orders") -> str:
        parts = [f"{self.matching} of {self.truth} ground-truth {noun} have their status and reason in the mart"]
        if self.differing:
            parts.append(f"{self.differing} have another status or reason")
        if self.missing:
            parts.append(f"{self.missing} are missing from the mart")
        if self.unknown:
            parts.append(f"the mart has {self.unknown} {noun} the world does not know")
        verdict = "[green]all match[/green]" if self.all_match else "[red]MISMATCH[/red]"
        return "; ".join(parts) + f": {verdict}"


def report(url: str, world: World) -> None:
    truth = {(row["tenant_id"], row["order_id"]): row for row in world.facts["ifood"].ground_truth()}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select tenant_id, order_id, status, divergence_reason from marts.fct_ifood_order_reconciliation"
        ).fetchall()
    if not rows:
        raise UserError(
            "The mart is empty after the run; check `conciliador db psql -c 'select * from ops.sync_runs'`."
        )
    seen = Counter((status, reason) for _, _, status, reason in rows)
    expected = Counter((row["status"], row["reason"]) for row in truth.values())
    agreement = Agreement.of(truth, rows)
    table = Table(
        title=f"iFood orders by reconciliation status (as of {world.config.start + timedelta(days=world.config.days)})"
    )
    table.add_column("status")
    table.add_column("divergence_reason")
    table.add_column("orders", justify="right")
    table.add_column("share", justify="right")
    table.add_column("ground truth", justify="right")
    total = sum(seen.values())
    order = {status: n for n, status in enumerate(STATUSES)}
    for status, reason in sorted(seen.keys() | expected.keys(), key=lambda k: (order.get(k[0], 99), k[1] or "")):
        count = seen[(status, reason)]
        table.add_row(status, reason or "", str(count), f"{count / total:.1%}", str(expected[(status, reason)]))
    Console().print(table)
    Console().print(agreement.line())
    Console().print(
        f'Look at the rows: [bold]conciliador db psql --database {DEMO_DATABASE} -c "select status, divergence_reason, count(*) '
        'from marts.fct_ifood_order_reconciliation group by 1, 2 order by 1, 2"[/bold]'
    )
    gateways_agree = report_gateways(url, world)
    if not agreement.all_match or not gateways_agree:
        raise typer.Exit(1)


GATEWAY_STATUSES = ("RECONCILED", "PENDING", "DISCREPANCY", "MANUAL_REVIEW")
TOOK_MONEY = ("paid", "refunded", "charged_back")
_GATEWAY_TOTALS = """
    select r.platform,
           count(*) filter (where r.payment_status in ('paid', 'refunded', 'charged_back')) as payments,
           coalesce(sum(r.gross_amount) filter (where r.payment_status in ('paid', 'refunded', 'charged_back')), 0),
           coalesce(sum(r.fee_amount), 0), coalesce(sum(r.net_amount), 0),
           coalesce(sum(s.platform_fee), 0), coalesce(sum(s.affiliate_commission), 0),
           coalesce(sum(s.coproducer_commission), 0), coalesce(sum(s.producer_amount), 0),
           count(*) filter (where a.overcharged), coalesce(sum(a.overcharge_amount), 0),
           count(*) filter (where s.split_mismatch)
    from marts.fct_payment_reconciliation as r
    left join marts.fct_payment_splits as s using (tenant_id, platform, payment_id)
    left join marts.fct_fee_audit as a using (tenant_id, platform, payment_id)
    group by r.platform
"""


def report_gateways(url: str, world: World) -> bool:
    """The gateways' and sales platforms' (Hotmart, Kiwify) reconciliation, splits and fee audit beside
    the ground truth; True when they agree."""
    from sandbox.core.payments.gateway import GatewayFacts

    # Every payment platform of the world: the four gateways and the two sales platforms all go
    # through int_payments and the payment marts.
    gateways = [name for name, facts in world.facts.items() if isinstance(facts, GatewayFacts)]
    truth_rows = [row for name in gateways for row in world.facts[name].ground_truth()]
    if not truth_rows:
        return True
    truth = {(row["platform"], row["payment_id"]): row for row in truth_rows}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select platform, payment_id, status, reason from marts.fct_payment_reconciliation"
        ).fetchall()
        totals = {r[0]: r[1:] for r in conn.execute(_GATEWAY_TOTALS).fetchall()}
    seen = Counter((status, reason) for _, _, status, reason in rows)
    expected = Counter((row["status"], row["reason"]) for row in truth_rows)
    as_of = world.config.start + timedelta(days=world.config.days)
    table = Table(title=f"Gateway payments by reconciliation status (as of {as_of}): payment → payout → bank credit")
    for column, justify in (("status", "left"), ("reason", "left"), ("payments", "right"), ("ground truth", "right")):
        table.add_column(column, justify=justify)
    order = {status: n for n, status in enumerate(GATEWAY_STATUSES)}
    for status, reason in sorted(seen.keys() | expected.keys(), key=lambda k: (order.get(k[0], 99), k[1] or "")):
        table.add_row(status, reason or "", str(seen[(status, reason)]), str(expected[(status, reason)]))
    Console().print(table)
    agreement = Agreement.of(truth, rows)
    Console().print(agreement.line("gateway payments"))

    labels = ("payments", "gross", "gateway fee", "net", "platform fee", "affiliates", "co-producers", "producers",
              "over-charged payments", "over-charge R$", "split mismatches")  # fmt: skip
    money = Table(title="Gateway money (payments that took money): the mart, and the ground truth where it differs")
    money.add_column("")
    for name in gateways:
        money.add_column(name, justify="right")
    columns: list[list[str]] = []
    same = True
    for name in gateways:
        rows_of = [row for row in truth_rows if row["platform"] == name and row["payment_status"] in TOOK_MONEY]
        expected_totals = (
            len(rows_of),
            sum((r["gross_amount"] for r in rows_of), Decimal(0)),
            sum((r["fee_amount"] for r in rows_of), Decimal(0)),
            sum((r["net_amount"] for r in rows_of), Decimal(0)),
            sum((r["platform_fee"] for r in rows_of), Decimal(0)),
            sum((r["affiliate_commission"] for r in rows_of), Decimal(0)),
            sum((r.get("coproducer_commission") or Decimal(0) for r in rows_of), Decimal(0)),
            sum((r["producer_amount"] for r in rows_of), Decimal(0)),
            sum(1 for r in rows_of if r["fee_status"] == "overcharged"),
            sum((r["overcharge_amount"] or Decimal(0) for r in rows_of), Decimal(0)),
            sum(1 for r in rows_of if r["split_mismatch"]),
        )
        got = totals.get(
            name,
            (0, Decimal(0), Decimal(0), Decimal(0), Decimal(0), Decimal(0), Decimal(0), Decimal(0), 0, Decimal(0), 0),
        )
        cells = []
        for value, want in zip(got, expected_totals, strict=True):
            text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
            if value != want:
                same = False
                text += f" [red](truth {want:,})[/red]" if isinstance(want, int) else f" [red](truth {want:,.2f})[/red]"
            cells.append(text)
        columns.append(cells)
    for i, label in enumerate(labels):
        money.add_row(label, *(column[i] for column in columns))
    Console().print(money)
    Console().print(
        "Splits: platform fee + affiliate + co-producer + producer = gross, to the cent, for every payment (at "
        "Hotmart and Kiwify the platform fee is the platform's own fee); over-charges "
        "are fees above the contract (money to claim back: marts.fct_fee_audit_monthly)."
        + (" [green]Totals match the ground truth.[/green]" if same else " [red]TOTALS DIFFER.[/red]")
    )
    return agreement.all_match and same
