"""The `conciliador` console script: product commands plus the sandbox and the demo.

This composition layer is the only code that sees both product modules and the sandbox;
product code itself never imports the sandbox.
"""

from __future__ import annotations

import sys
import traceback

import typer

from cli import contracts, db, holidays, integrations, runs, sink, tolerances
from ingestion.errors import UserError
from plugins.providers.errors import ProviderError

app = typer.Typer(
    help="Conciliador: reconciliation warehouse for Brazilian commerce money flows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.db_app, name="db")
app.add_typer(integrations.integrations_app, name="integrations")
app.add_typer(tolerances.tolerances_app, name="tolerances")
app.add_typer(holidays.calendar_app, name="calendar")
app.add_typer(contracts.splits_app, name="splits")
app.add_typer(contracts.fees_app, name="fees")
app.add_typer(contracts.contracts_app, name="contracts")
app.add_typer(sink.sink_app, name="sink")
app.command("sync")(runs.sync_command)
app.command("run")(runs.run_command)
app.command("dbt", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(runs.dbt_command)


def _register_optional() -> None:
    from cli.demo import demo_command
    from cli.sandbox import app as sandbox_app

    app.add_typer(sandbox_app, name="sandbox", help="The offline sandbox: synthetic world and fake provider APIs.")
    app.command("demo")(demo_command)


_register_optional()


def _redacted(message: str) -> str:
    """Messages carry tails of dbt / Airflow / PostgreSQL output: mask every password we know of."""
    from ingestion.redact import scrub
    from ingestion.warehouse import known_secrets

    try:
        secrets = known_secrets()
    except Exception:  # reporting an error must not fail on reading the state folder
        secrets = []
    return scrub(message, secrets)


def main() -> None:
    try:
        app()
    except UserError as exc:
        typer.secho(f"error: {_redacted(str(exc))}", err=True, fg="red")
        sys.exit(2)
    except ProviderError as exc:
        # The error class knows whether this is credentials, an unlinked account or an outage.
        typer.secho(f"error: {_redacted(str(exc))}. {exc.advice}", err=True, fg="red")
        sys.exit(2)
    except Exception:  # a bug: keep its traceback, without the passwords an exception may quote
        sys.stderr.write(_redacted(traceback.format_exc()))
        sys.exit(1)


if __name__ == "__main__":
    main()
