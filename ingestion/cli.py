"""Product commands: the warehouse, integrations, manual syncs and DAG runs.

Every command turns bad input into one sentence (UserError) rather than a traceback; the
console entry point (`cli/main.py`) prints it and exits 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from ingestion import integrations as integrations_store
from ingestion.errors import UserError
from ingestion.pg_auth import passwords_file
from ingestion.pg_binaries import bin_dir
from ingestion.redact import redact_url
from ingestion.settings import external_database_url
from ingestion.vault import Keyring, new_key_id, new_key_spec
from ingestion.warehouse import (
    EmbeddedServer,
    check_reachable,
    database_url,
    prepare_warehouse,
    split_password,
    with_database,
)

db_app = typer.Typer(
    help="The warehouse: embedded PostgreSQL by default, DATABASE_URL otherwise.", no_args_is_help=True
)
tolerances_app = typer.Typer(
    help="Per-tenant reconciliation tolerances (control.tolerances); the next dbt build applies them.",
    no_args_is_help=True,
)
calendar_app = typer.Typer(
    help="The business-day calendar (Brazilian financial holidays) the reconciliation counts in.",
    no_args_is_help=True,
)
integrations_app = typer.Typer(
    help="Integrations (tenant × provider) and their encrypted credentials.", no_args_is_help=True
)


def parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} must be a date like 2026-10-31; got {value!r}.") from None


def parse_pairs(values: list[str], option: str) -> dict[str, list[str]]:
    pairs: dict[str, list[str]] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{option} takes NAME=VALUE; got {value!r}.")
        pairs.setdefault(key.strip(), []).extend(v for v in item.split(",") if v)
    return pairs


def connect() -> psycopg.Connection:
    return psycopg.connect(prepare_warehouse())


# ---------------------------------------------------------------- db


@db_app.command("up")
def db_up() -> None:
    """Start the embedded PostgreSQL (initialising or securing it on first use) and create the schemas."""
    url = prepare_warehouse()
    if external_database_url():
        typer.echo("DATABASE_URL is set: using that server; schemas are in place.")
    else:
        typer.echo(f"Embedded warehouse is up: {redact_url(url)} (password in {passwords_file()})")


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded PostgreSQL (data stays in .conciliador/pgdata)."""
    _embedded_only("stop")
    stopped = EmbeddedServer.default().stop()
    typer.echo("Embedded warehouse stopped." if stopped else "Embedded warehouse was not running.")


@db_app.command("url")
def db_url(
    show_password: Annotated[
        bool, typer.Option(help="Print the password too (it ends up in your terminal's scrollback).")
    ] = False,
) -> None:
    """Print the connection URL (starting the embedded server if needed); the password is masked."""
    url = database_url()
    typer.echo(url if show_password else redact_url(url))


@db_app.command("psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def db_psql(
    ctx: typer.Context,
    database: Annotated[
        str | None, typer.Option(help="Another database on the same server, e.g. conciliador_demo (the demo's).")
    ] = None,
) -> None:
    """Open psql on the warehouse; extra arguments go to psql (e.g. -c "select ...").

    The password travels in psql's environment (PGPASSWORD), never on its command line,
    where every local user could read it in `ps`.
    """
    url = database_url()
    if database:
        url = with_database(url, database)
    check_reachable(url)
    conninfo, env = split_password(url)
    raise typer.Exit(subprocess.call([str(bin_dir() / "psql"), conninfo, *ctx.args], env={**os.environ, **env}))


@db_app.command("reset-passwords")
def db_reset_passwords() -> None:
    """Give the (stopped) embedded warehouse new passwords, when .conciliador/pgpass was lost."""
    _embedded_only("reset the passwords of")
    EmbeddedServer.default().reset_passwords()
    typer.echo(f"New passwords are in {passwords_file()}; `conciliador db up` starts the warehouse with them.")


@db_app.command("upgrade")
def db_upgrade(
    old_bindir: Annotated[
        Path | None,
        typer.Option(help="bin folder of the PostgreSQL that made the data (default: fetch pgserver 0.1.4's)."),
    ] = None,
) -> None:
    """Carry a data directory made by an older PostgreSQL (16, pgserver) over to the bundled one (pg_upgrade)."""
    from ingestion.pg_upgrade import upgrade

    _embedded_only("upgrade")
    kept = upgrade(EmbeddedServer.default(), old_bindir)
    typer.echo(f"Upgraded; the old data directory is kept in {kept} (delete it once you are satisfied).")


def _embedded_only(action: str) -> None:
    if external_database_url():
        raise UserError(
            f"DATABASE_URL is set, so there is no embedded server to {action}; unset it to manage the embedded one."
        )


# ---------------------------------------------------------------- integrations


@integrations_app.command("add")
def integrations_add(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Option(help="Tenant id every row of this integration carries.")],
    provider: Annotated[str, typer.Option(help="Provider name as the registry knows it; an unknown one is refused with the known names.")],
    credential: Annotated[
        list[str], typer.Option(help="NAME=VALUE for a field that is not secret, e.g. client_id=...; repeatable.")
    ] = [],  # noqa: B006
    credentials_stdin: Annotated[
        bool, typer.Option(help="Read credentials from standard input: a JSON object or NAME=VALUE lines.")
    ] = False,
    credentials_file: Annotated[
        Path | None, typer.Option(help="Read credentials from this file (JSON object or NAME=VALUE lines).")
    ] = None,
    allow_secret_in_args: Annotated[
        bool, typer.Option(help="Accept a secret in --credential / --webhook-secret (visible in ps and history).")
    ] = False,
    external_id: Annotated[list[str], typer.Option(help="NAME=ID[,ID], e.g. item_ids=...; repeatable.")] = [],  # noqa: B006
    name: Annotated[str, typer.Option(help="Distinguishes several integrations of one provider.")] = "default",
    base_url: Annotated[str | None, typer.Option(help="API base URL; default: the provider's real one.")] = None,
    webhook_secret: Annotated[
        str | None,
        typer.Option(
            envvar="CONCILIADOR_WEBHOOK_SECRET",
            help="Stored encrypted; give it by CONCILIADOR_WEBHOOK_SECRET or as webhook_secret on stdin / in the file.",
        ),
    ] = None,
) -> None:
    """Add (or replace) an integration; credentials are stored AES-256-GCM encrypted.

    Secrets come from standard input, a file, CONCILIADOR_CREDENTIAL_<FIELD> variables or a
    hidden prompt, never from arguments (every local user can read those).
    """
    from ingestion.credentials_input import WEBHOOK_SECRET, gather
    from plugins.providers.errors import UnknownProviderError
    from plugins.providers.registry import provider_class

    try:
        cls = provider_class(provider)
    except UnknownProviderError as exc:
        raise UserError(str(exc)) from None
    from_args = {k: v[-1] if v else "" for k, v in parse_pairs(credential, "--credential").items()}
    source = ctx.get_parameter_source("webhook_secret")  # typer vendors click: compare by name
    if webhook_secret is not None and getattr(source, "name", None) != "ENVIRONMENT":
        from_args[WEBHOOK_SECRET] = webhook_secret
    interactive = not credentials_stdin and sys.stdin.isatty()
    creds = gather(
        cls,
        from_args=from_args,
        stdin_text=sys.stdin.read() if credentials_stdin else None,
        file=credentials_file,
        allow_secret_in_args=allow_secret_in_args,
        prompt=(lambda field, hidden: typer.prompt(field, hide_input=hidden)) if interactive else None,
        warn=lambda message: typer.secho(message, err=True, fg="yellow"),
    )
    secret = creds.pop(WEBHOOK_SECRET, None) or webhook_secret
    with connect() as conn:
        integration = integrations_store.add(
            conn,
            Keyring.load(),
            tenant_id=tenant,
            provider=provider,
            credentials=creds,
            external_ids=parse_pairs(external_id, "--external-id"),
            name=name,
            base_url=base_url,
            webhook_secret=secret,
        )
    typer.echo(
        f"Integration {integration.integration_id} ({integration.tenant_id}/{integration.provider}/{integration.name}) is active."
    )


@integrations_app.command("list")
def integrations_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List integrations (never their secrets)."""
    with connect() as conn:
        rows = integrations_store.list_all(conn)
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    if not rows:
        typer.echo("No integrations yet; add one with `conciliador integrations add`.")
    for r in rows:
        state = "no-creds" if not r.key_id else "active" if r.is_active else "disabled"
        ids = "; ".join(f"{k}={','.join(v)}" for k, v in r.external_ids.items())
        typer.echo(
            f"{r.integration_id:>4}  {r.tenant_id:<14} {r.provider:<8} {r.name:<10} {state:<8} {ids}  {r.base_url or ''}"
        )


@integrations_app.command("disable")
def integrations_disable(integration_id: int) -> None:
    """Stop extracting an integration (its data stays)."""
    with connect() as conn:
        integration = integrations_store.disable(conn, integration_id)
    typer.echo(f"Integration {integration_id} ({integration.tenant_id}/{integration.provider}) is disabled.")


@integrations_app.command("rotate-key")
def integrations_rotate_key() -> None:
    """Re-encrypt every stored secret with the primary key of CONCILIADOR_SECRET_KEYS."""
    with connect() as conn:
        changed = integrations_store.rotate(conn, Keyring.load())
    typer.echo(f"Re-encrypted {changed} integration(s) under the primary key.")


@integrations_app.command("new-key")
def integrations_new_key(key_id: Annotated[str, typer.Option(help="Name for the key.")] = "") -> None:
    """Print a fresh key entry to put first in CONCILIADOR_SECRET_KEYS."""
    typer.echo(new_key_spec(key_id or new_key_id(datetime.now().strftime("k%Y%m%d"))))


@integrations_app.command("reset-key")
def integrations_reset_key(
    yes: Annotated[bool, typer.Option("--yes", help="Really forget the secrets no available key opens.")] = False,
) -> None:
    """After a key was lost: forget the secrets it sealed so their credentials can be given again.

    Their integrations are disabled (their data stays) until `conciliador integrations add`
    (same tenant, provider and --name) stores new credentials; with the embedded key file a
    new key (new id) is made then.
    """
    from ingestion.integrations import forget_unreadable_secrets, unreadable_key_ids

    keyring = Keyring.load()
    with connect() as conn:
        waiting = unreadable_key_ids(conn, keyring)
        if not waiting:
            typer.echo("Every stored secret opens with the keys in force; nothing to reset.")
            return
        described = ", ".join(
            f"{key!r} ({count} integration{'s' if count > 1 else ''})" for key, count in waiting.items()
        )
        if not yes:
            raise UserError(
                f"This forgets the secrets sealed with {described} and disables those integrations until their "
                "credentials are given again; rerun with --yes to do it (or restore the key instead)."
            )
        forgotten = forget_unreadable_secrets(conn, keyring)
    for integration in forgotten:
        typer.echo(
            f"Integration {integration.integration_id} ({integration.tenant_id}/{integration.provider}/{integration.name})"
            " is disabled until `conciliador integrations add` gives its credentials again."
        )


# ---------------------------------------------------------------- calendar


@calendar_app.command("refresh")
def calendar_refresh(
    first_year: Annotated[
        int | None, typer.Option(min=1990, max=2200, help="First year (default: the seed's).")
    ] = None,
    last_year: Annotated[int | None, typer.Option(min=1990, max=2200, help="Last year (default: the seed's).")] = None,
) -> None:
    """Rewrite dbt/seeds/br_financial_holidays.csv from the installed `holidays` package."""
    from ingestion.calendar import SEED_PATH, refresh_seed, seed_years

    try:
        count = refresh_seed(first_year=first_year, last_year=last_year)
    except ValueError as exc:
        raise UserError(f"{exc}.") from None
    first, last = seed_years()
    typer.echo(f"{count} holidays ({first}–{last}) written to {SEED_PATH}; the next dbt build loads them.")


# ---------------------------------------------------------------- tolerances


@tolerances_app.command("set")
def tolerances_set(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    value_tolerance: Annotated[
        str | None, typer.Option(help="R$ difference still counted as paid in full, e.g. 0.05.")
    ] = None,
    grace_days: Annotated[
        int | None, typer.Option(help="Business days after the expected payment date before late.")
    ] = None,
    missing_days: Annotated[
        int | None,
        typer.Option(help="Business days after a sale before it counts as missing from conciliation."),
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why (kept for auditors).")] = None,
) -> None:
    """Override a tenant's tolerances; options left out use the project defaults."""
    from ingestion.tolerances import parse_money, set_tolerance

    money = parse_money(value_tolerance, "--value-tolerance") if value_tolerance is not None else None
    with connect() as conn:
        set_tolerance(
            conn,
            tenant,
            value_tolerance=money,
            grace_days=grace_days,
            missing_from_conciliation_days=missing_days,
            note=note,
        )
    typer.echo(f"Tolerances for {tenant} saved; the next `dbt build` (or DAG run) applies them.")


@tolerances_app.command("list")
def tolerances_list() -> None:
    """Show every tenant override (others use the dbt var defaults)."""
    from ingestion.tolerances import list_tolerances

    with connect() as conn:
        rows = list_tolerances(conn)
    if not rows:
        typer.echo(
            "No overrides: every tenant uses the defaults (R$ 0.10, 3 business days of grace,"
            " missing from conciliation after 2 business days)."
        )
    for row in rows:
        value = "default" if row.value_tolerance is None else f"R$ {row.value_tolerance}"
        grace = "default" if row.grace_days is None else f"{row.grace_days} days"
        missing = (
            "default" if row.missing_from_conciliation_days is None else f"{row.missing_from_conciliation_days} days"
        )
        typer.echo(f"{row.tenant_id:<16} tolerance {value:<10} grace {grace:<8} missing {missing:<8} {row.note or ''}")


@tolerances_app.command("reset")
def tolerances_reset(tenant: Annotated[str, typer.Option(help="Tenant id.")]) -> None:
    """Drop a tenant's overrides so it uses the defaults again."""
    from ingestion.tolerances import reset_tolerance

    with connect() as conn:
        removed = reset_tolerance(conn, tenant)
    typer.echo(f"{tenant} uses the defaults again." if removed else f"{tenant} had no overrides.")


# ---------------------------------------------------------------- syncs and runs


def sync_command(
    integration_id: Annotated[int, typer.Option("--integration", help="Integration id (see `integrations list`).")],
    start: Annotated[str, typer.Option(help="First business date, e.g. 2026-10-01.")],
    end: Annotated[str, typer.Option(help="Last business date (inclusive).")],
) -> None:
    """Extract one integration over a date range into raw (no dbt)."""
    from ingestion.sync import run_sync
    from plugins.providers.base import Interval

    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    if last < first:
        raise UserError(f"--end {last} is before --start {first}.")
    result = run_sync(prepare_warehouse(), integration_id, Interval.for_dates(first, last), run_label="cli")
    typer.echo(f"sync run {result.sync_run_id}: fetched {result.rows_fetched}, wrote {result.rows_written} new rows")


def run_command(
    day: Annotated[str, typer.Option("--date", help="Business date whose data interval to run, e.g. 2026-10-30.")],
    lookback_days: Annotated[int, typer.Option(min=0, max=366, help="Also re-extract this many earlier days.")] = 2,
    full_refresh: Annotated[
        bool, typer.Option(help="Re-evaluate every order (for a backfill of a day older than the latest run).")
    ] = False,
) -> None:
    """Run the daily DAG once for a day with `airflow dags test` (extract every integration, dbt build)."""
    from ingestion.airflow_runner import dag_test

    prepare_warehouse()
    dag_test(parse_date(day, "--date"), conf={"lookback_days": lookback_days, "full_refresh": full_refresh})
    typer.echo(f"DAG run for {day} succeeded.")


def dbt_command(ctx: typer.Context) -> None:
    """Run dbt against the warehouse, e.g. `conciliador dbt build --select marts`."""
    from ingestion.dbt_runner import run_dbt

    run_dbt(prepare_warehouse(), tuple(ctx.args) or ("build",))
