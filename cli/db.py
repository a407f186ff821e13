"""`conciliador db …`: the warehouse (embedded PostgreSQL by default, DATABASE_URL otherwise).

Every command turns bad input into one sentence (UserError) rather than a traceback; the
console entry point (`cli/main.py`) prints it and exits 2.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from ingestion.errors import UserError
from ingestion.pg_auth import passwords_file
from ingestion.pg_binaries import bin_dir
from ingestion.redact import redact_url
from ingestion.settings import external_database_url
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
