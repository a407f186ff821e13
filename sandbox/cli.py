"""`conciliador sandbox …`: serve the fake providers, print their credentials, export the ground truth.

Every command takes the same world knobs (`--seed`, `--tenants`, … one option per `WorldConfig`
field), declared once in `KNOBS` and added to each command by `@world_options`, so the three
commands cannot drift apart. Knob values are parsed here rather than by click so that any
malformed value ends in one plain sentence on stderr and exit code 2.
"""

from __future__ import annotations

import csv
import functools
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import typer

from sandbox.options import PLUGGY_RATE_LIMIT, ServerOptions
from sandbox.world import REASONS, World, WorldConfig

app = typer.Typer(
    help="The offline sandbox: synthetic world and fake provider APIs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

TRUTH_COLUMNS = ("tenant_id", "merchant_id", "order_id", "status", "reason")


class UsageProblem(Exception):
    """A malformed option value; the message is one sentence for the user."""


@dataclass(frozen=True)
class Knob:
    name: str  # WorldConfig field
    parse: Callable[[str], Any]
    metavar: str
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def _rate(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def _text(text: str) -> str:
    return text


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text) if len(text) == 10 else date.fromisoformat("invalid")
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date (YYYY-MM-DD)") from None


_DEFAULTS = WorldConfig()
KNOBS = (
    Knob("seed", _whole, "INT", "Everything (ids, amounts, credentials) derives from it."),
    Knob("tenants", _whole, "INT", "Customers, each with its own Pluggy and iFood credentials."),
    Knob("stores_per_tenant", _whole, "INT", "iFood merchants per tenant, each with its own bank account."),
    Knob("start", _day, "YYYY-MM-DD", "First business day (America/Sao_Paulo)."),
    Knob("days", _whole, "INT", "Number of business days with orders."),
    Knob("orders_per_day", _whole, "INT", "Orders per store per day (jittered ±25 %)."),
    Knob("payout_term_days", _whole, "INT", "Daily schedule: iFood pays each day's orders D+N days later."),
    Knob("payout_schedule", _text, "daily|weekly", "Daily (D+N) or weekly (Wednesday after the week) payouts."),
    Knob("sales_only_rate", _rate, "RATE", "Share of orders that never get financial events."),
    Knob("cancelled_rate", _rate, "RATE", "Share of orders cancelled after their events were posted."),
    Knob("divergent_rate", _rate, "RATE", "Share of payout batches that go wrong."),
    Knob("anticipation_rate", _rate, "RATE", "Share of payout batches the store anticipates (minus a fee)."),
    Knob("partial_payment_rate", _rate, "RATE", "Share of payout batches paid in two credits."),
    Knob("refund_after_payment_rate", _rate, "RATE", "Share of orders refunded from a later payout."),
    Knob("orphan_event_rate", _rate, "RATE", "Share of orders with financial events but no sale."),
    Knob("unlisted_settlement_rate", _rate, "RATE", "Share of payout batches iFood's settlements API does not list."),
    Knob("bank_noise_per_day", _whole, "INT", "Unrelated bank transactions per account per day."),
)


def config_from_options(values: dict[str, str | None]) -> WorldConfig:
    """Build a WorldConfig from raw option texts (None = default); UsageProblem on any bad value."""
    kwargs: dict[str, Any] = {}
    for knob in KNOBS:
        text = values.get(knob.name)
        if text is None:
            continue
        try:
            kwargs[knob.name] = knob.parse(text.strip())
        except ValueError as exc:
            raise UsageProblem(f"{knob.flag}: {exc}.") from None
    try:
        return WorldConfig(**kwargs)
    except ValueError as exc:
        flag = next((k.flag for k in KNOBS if str(exc).startswith(k.name)), "world")
        raise UsageProblem(f"{flag}: {exc}.") from None


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def world_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command every world knob as an option and call it with `config: WorldConfig` instead."""
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "config"]
    knob_params = [
        inspect.Parameter(
            knob.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                str | None,
                typer.Option(
                    knob.flag,
                    metavar=knob.metavar,
                    show_default=False,
                    rich_help_panel="World knobs",
                    help=f"{knob.help} [default: {_default_text(knob)}]",
                ),
            ],
        )
        for knob in KNOBS
    ]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        raw = {knob.name: kwargs.pop(knob.name, None) for knob in KNOBS}
        try:
            config = config_from_options(raw)
        except UsageProblem as exc:
            raise fail(str(exc)) from None
        command(config=config, **kwargs)

    wrapper.__signature__ = inspect.Signature([*own, *knob_params])  # type: ignore[attr-defined]
    return wrapper


def _default_text(knob: Knob) -> str:
    value = getattr(_DEFAULTS, knob.name)
    return value.isoformat() if isinstance(value, date) else str(value)


def _port(value: int) -> int:
    if not 0 <= value <= 65535:
        raise fail(f"--port: {value} is not a TCP port (0-65535).")
    return value


@app.command()
@world_options
def serve(
    config: WorldConfig,
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8600,
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0 to serve other machines).")] = "127.0.0.1",
    rate_limit: Annotated[
        int, typer.Option(help="Requests per minute per endpoint and client before a 429 (0 = off).")
    ] = PLUGGY_RATE_LIMIT,
) -> None:
    """Serve the fake Pluggy (/pluggy) and iFood (/ifood) APIs over the generated world."""
    from sandbox.server import serve as run_server

    if rate_limit < 0:
        raise fail(f"--rate-limit: {rate_limit} is negative; use 0 to switch rate limiting off.")
    _port(port)
    world = World(config)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    typer.echo(
        f"sandbox: {len(world.orders):,} orders, {world.bank_transaction_count:,} bank transactions; "
        f"serving {base}/pluggy and {base}/ifood (credentials: {base}/_sandbox/credentials)",
        err=True,
    )
    run_server(world, host=host, port=port, options=ServerOptions().with_rate_limit(rate_limit))


@app.command()
@world_options
def credentials(
    config: WorldConfig,
    port: Annotated[int, typer.Option(help="Port the sandbox is (or will be) served on.")] = 8600,
    host: Annotated[str, typer.Option(help="Host clients use to reach the sandbox.")] = "127.0.0.1",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")] = False,
) -> None:
    """Print the client credentials and resource ids the fake APIs accept for this world."""
    _port(port)
    creds = World(config).credentials(f"http://{host}:{port}")
    if as_json:
        typer.echo(json.dumps(creds, indent=2))
        return
    typer.echo(f"Pluggy base URL: {creds['base_urls']['pluggy']}\niFood base URL:  {creds['base_urls']['ifood']}")
    for tenant in creds["tenants"]:
        p, i = tenant["pluggy"], tenant["ifood"]
        typer.echo(
            f"\n{tenant['tenant_id']}\n  pluggy client_id={p['client_id']} client_secret={p['client_secret']}"
            f"\n         item_ids={','.join(p['item_ids'])}"
            f"\n  ifood  client_id={i['client_id']} client_secret={i['client_secret']}"
            f"\n         merchant_ids={','.join(i['merchant_ids'])}"
        )


@app.command()
@world_options
def truth(
    config: WorldConfig,
    out: Annotated[str | None, typer.Option(help="Write the CSV here instead of standard output.")] = None,
) -> None:
    """Export the ground truth (one row per order) as CSV and print the status counts."""
    world = World(config)
    rows = world.ground_truth()
    try:
        handle = open(out, "w", newline="", encoding="utf-8") if out else sys.stdout
    except OSError as exc:
        raise fail(f"--out: cannot write {out!r} ({exc.strerror}).") from None
    try:
        writer = csv.DictWriter(handle, fieldnames=TRUTH_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "reason": row["reason"] or ""} for row in rows)
    finally:
        if out:
            handle.close()
    summary = sys.stdout if out else sys.stderr
    total = len(rows)
    for status, n in world.status_counts().items():
        print(f"{status:<20} {n:>8,}  {n / total if total else 0:6.1%}", file=summary)
    print(f"{'total':<20} {total:>8,}", file=summary)
    reasons = world.reason_counts()
    for status, reason in REASONS:
        n = reasons.get((status, reason), 0)
        print(f"  {status + ' / ' + (reason or '-'):<45} {n:>8,}", file=summary)
