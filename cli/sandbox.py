"""`conciliador sandbox …`: serve the fake providers, print their credentials, export the ground truth.

Every command takes the same world knobs (`--seed`, `--tenants`, … one option per `WorldConfig`
field, grouped in the help by the platform that declares it), read once into `KNOBS` from the
fields' metadata and added to each command by `@world_options`, so the three commands cannot
drift apart and a platform's new knob is an option without touching this file. Knob values are
parsed here rather than by click so that any malformed value ends in one plain sentence on stderr
and exit code 2. Platforms, their URLs and credentials come from the sandbox registry.
"""

from __future__ import annotations

import csv
import functools
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from typing import Annotated, Any

import typer

from sandbox.core.knobs import BankKnobs
from sandbox.options import ServerOptions
from sandbox.registry import PLATFORMS
from sandbox.world import World, WorldConfig

app = typer.Typer(
    help="The offline sandbox: synthetic world and fake provider APIs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class UsageProblem(Exception):
    """A malformed option value; the message is one sentence for the user."""


@dataclass(frozen=True)
class Knob:
    name: str  # WorldConfig field
    parse: Callable[[str], Any]
    metavar: str
    help: str
    panel: str = "World knobs"  # where --help lists it: the world's, or the platform's that declares it

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
_PARSERS: dict[str, Callable[[str], Any]] = {"int": _whole, "float": _rate, "date": _day, "str": _text}


def _knobs() -> tuple[Knob, ...]:
    """One `Knob` per `WorldConfig` field, from the field's type and metadata, in the config's order."""
    panel_of = {f.name: "World knobs" for f in fields(BankKnobs)}
    for platform in PLATFORMS:
        if platform.knobs is not None:
            for f in fields(platform.knobs):
                panel_of.setdefault(f.name, f"{platform.title} knobs")
    unparsed = [f"{f.name} ({f.type})" for f in fields(WorldConfig) if str(f.type) not in _PARSERS]
    if unparsed:
        raise TypeError(f"no command-line parser for the knobs {', '.join(unparsed)}: add one to _PARSERS")
    return tuple(
        Knob(f.name, _PARSERS[str(f.type)], f.metadata["metavar"], f.metadata["help"], panel_of[f.name])
        for f in fields(WorldConfig)
    )


KNOBS = _knobs()


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
                    rich_help_panel=knob.panel,
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


@app.command(
    help=f"Serve every platform's fake API ({', '.join(f'/{p.name}' for p in PLATFORMS)}) over the generated world."
)
@world_options
def serve(
    config: WorldConfig,
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8600,
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0 to serve other machines).")] = "127.0.0.1",
    rate_limit: Annotated[
        int | None,
        typer.Option(
            help="Requests per minute per endpoint and client before a 429 (0 = off; default: each platform's own figure).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve every registered platform's fake API at /<name> over the generated world."""
    from sandbox.server import serve as run_server

    if rate_limit is not None and rate_limit < 0:
        raise fail(f"--rate-limit: {rate_limit} is negative; use 0 to switch rate limiting off.")
    _port(port)
    world = World(config)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    counts = [f"{n:,} {key.replace('_', ' ')}" for facts in world.facts.values() for key, n in facts.summary().items()]
    urls = " and ".join(f"{base}/{p.name}" for p in PLATFORMS)
    typer.echo(
        f"sandbox: {', '.join([*counts, f'{world.bank_transaction_count:,} bank transactions'])}; "
        f"serving {urls} (credentials: {base}/_sandbox/credentials)",
        err=True,
    )
    options = ServerOptions() if rate_limit is None else ServerOptions().with_rate_limit(rate_limit)
    run_server(world, host=host, port=port, options=options)


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
    label = max(len(p.title) for p in PLATFORMS) + len(" base URL:")
    typer.echo("\n".join(f"{p.title + ' base URL:':<{label}} {creds['base_urls'][p.name]}" for p in PLATFORMS))
    width = max(len(p.name) for p in PLATFORMS)
    for tenant in creds["tenants"]:
        lines = [f"\n{tenant['tenant_id']}"]
        for p in PLATFORMS:
            given = tenant[p.name]
            if "accounts" in given:  # a gateway: one account (one integration) per store, each with its own keys
                for account in given["accounts"]:
                    fields_ = " ".join(f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in account.items())
                    lines.append(f"  {p.name:<{width}} {fields_}")
                continue
            lines.append(f"  {p.name:<{width}} client_id={given['client_id']} client_secret={given['client_secret']}")
            # Resource ids (item_ids, merchant_ids, …): the first is what an integration needs.
            ids = next((k for k, v in given.items() if isinstance(v, list) and k != "accounts"), None)
            if ids is not None:
                lines.append(f"  {'':<{width}} {ids}={','.join(given[ids])}")
        typer.echo("\n".join(lines))


@app.command()
@world_options
def contracts(config: WorldConfig) -> None:
    """Print the tenants' contracts (split rates, gateway fee schedules) as JSON, for `conciliador contracts load`."""
    typer.echo(json.dumps(World(config).contracts(), indent=2))


@app.command()
@world_options
def deliver(
    config: WorldConfig,
    platform: Annotated[str, typer.Option(help="The platform whose notifications to send (e.g. stripe).")],
    url: Annotated[str, typer.Option(help="The receiver, e.g. http://127.0.0.1:8000/integrations/webhooks/stripe")],
    account: Annotated[
        str | None, typer.Option(help="The account (integration name) whose notifications; default: every account.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 10.0,
) -> None:
    """POST a platform's notifications for this world to a receiver, signed as the platform signs them.

    Each is sent as the platform sends it (raw body, its headers, its query string), oldest first,
    signed as of now where the scheme has a timestamp; the answers are counted by status code.
    """
    import httpx

    from sandbox.core.webhooks import post
    from sandbox.registry import platform as platform_named

    try:
        found = platform_named(platform)
    except KeyError as exc:
        raise fail(f"--platform: {exc.args[0]}.") from None
    if found.webhooks is None:
        raise fail(f"--platform: {found.title} sends no webhooks in the sandbox.")
    world = World(config)
    listed = [a["name"] for t in world.credentials("")["tenants"] for a in t[found.name].get("accounts", ())]
    if account is not None and account not in listed:
        raise fail(f"--account: no {found.title} account {account!r} in this world; known: {', '.join(listed)}.")
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    answers: dict[int | str, int] = {}
    sent = 0
    with httpx.Client(timeout=timeout) as client:
        for name in [account] if account else listed:
            for delivery in found.webhooks(world.facts[found.name], name, now=now):
                try:
                    code: int | str = post(client, url, delivery).status_code
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                answers[code] = answers.get(code, 0) + 1
                sent += 1
    summary = ", ".join(f"{code}: {n:,}" for code, n in sorted(answers.items(), key=lambda kv: str(kv[0])))
    typer.echo(f"sent {sent:,} {found.title} notification(s) to {url}; answers {summary or 'none'}")
    if any(not (isinstance(code, int) and 200 <= code < 300) for code in answers):
        raise typer.Exit(1)


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
        columns = list(dict.fromkeys(c for facts in world.facts.values() for c in facts.truth_columns))
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n", restval="")
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
    for status, reason in world.reasons:
        n = reasons.get((status, reason), 0)
        print(f"  {status + ' / ' + (reason or '-'):<45} {n:>8,}", file=summary)
