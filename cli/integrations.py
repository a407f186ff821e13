"""`conciliador integrations …`: tenants' provider integrations and their sealed credentials.

Every command turns bad input into one sentence (UserError) rather than a traceback; the
console entry point (`cli/main.py`) prints it and exits 2.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from cli.arguments import connect, parse_pairs
from ingestion import integrations as integrations_store
from ingestion.errors import UserError
from ingestion.vault import Keyring, new_key_id, new_key_spec

integrations_app = typer.Typer(
    help="Integrations (tenant × provider) and their encrypted credentials.", no_args_is_help=True
)


@integrations_app.command("add")
def integrations_add(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Option(help="Tenant id every row of this integration carries.")],
    provider: Annotated[
        str,
        typer.Option(help="Provider name as the registry knows it; an unknown one is refused with the known names."),
    ],
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
    from cli.credentials_input import WEBHOOK_SECRET, gather
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
