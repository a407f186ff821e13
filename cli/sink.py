"""`conciliador sink …`: the webhook sink (serve), its worker, and the dead-letter queue.

`serve` and `worker` are long-running processes (docker-compose runs each as a service); `dlq list`
and `dlq replay` are for the person who fixed what made deliveries fail.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from cli.arguments import connect
from ingestion.errors import UserError

sink_app = typer.Typer(
    help="The webhook sink: receive provider notifications, process them, the dead-letter queue.", no_args_is_help=True
)
dlq_app = typer.Typer(
    help="The dead-letter queue: deliveries that failed every attempt (or did not parse).", no_args_is_help=True
)
sink_app.add_typer(dlq_app, name="dlq")


@sink_app.command("serve")
def serve_command(
    host: Annotated[
        str, typer.Option(help="Interface to bind (0.0.0.0 behind a reverse proxy or in a container).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8700,
    max_body_bytes: Annotated[int, typer.Option(help="Larger bodies are refused with 413.")] = 1024 * 1024,
    writers: Annotated[int, typer.Option(help="Database connections committing deliveries (group commit).")] = 2,
    max_batch: Annotated[int, typer.Option(help="Most deliveries one commit stores.")] = 256,
    retry_after: Annotated[
        int, typer.Option(help="Seconds a 503 (database unavailable) tells the sender to wait.")
    ] = 5,
) -> None:
    """Serve POST /integrations/webhooks/PROVIDER (or .../PROVIDER/INTEGRATION_ID), /health and /metrics."""
    from ingestion.warehouse import prepare_warehouse
    from webhook_sink.app import create_app
    from webhook_sink.server import serve
    from webhook_sink.state import SinkSettings

    if not 0 <= port <= 65535:
        raise UserError(f"--port: {port} is not a TCP port (0-65535).")
    if max_body_bytes < 1 or writers < 1 or max_batch < 1 or retry_after < 0:
        raise UserError("--max-body-bytes, --writers and --max-batch must be positive, --retry-after not negative.")
    settings = SinkSettings(
        prepare_warehouse(),
        max_body_bytes=max_body_bytes,
        writers=writers,
        max_batch=max_batch,
        retry_after_s=retry_after,
    )
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    typer.echo(f"sink: listening on http://{host}:{port}/integrations/webhooks/<provider>/<integration id>", err=True)
    serve(create_app(settings), host, port)


@sink_app.command("worker")
def worker_command(
    batch: Annotated[int, typer.Option(help="Deliveries claimed per pass.")] = 100,
    idle_seconds: Annotated[float, typer.Option(help="Pause after a pass that found nothing due.")] = 1.0,
    retry_base_seconds: Annotated[
        float, typer.Option(help="Wait before the first retry; each later one waits 4x longer.")
    ] = 30.0,
    once: Annotated[bool, typer.Option("--once", help="Process what is due now, then exit.")] = False,
) -> None:
    """Turn landed deliveries into raw rows (source webhook); several workers may run at once."""
    from ingestion.warehouse import prepare_warehouse
    from ingestion.webhook_landing import Backoff
    from webhook_sink.worker import run

    if batch < 1 or idle_seconds < 0 or retry_base_seconds < 0:
        raise UserError("--batch must be positive; --idle-seconds and --retry-base-seconds not negative.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    total = run(
        prepare_warehouse(),
        batch=batch,
        idle_s=idle_seconds,
        backoff=Backoff(base_s=retry_base_seconds),
        until_idle=once,
    )
    typer.echo(
        f"worker: {total.done} done ({total.rows_written} raw rows), {total.retried} to retry, {total.dead} dead-lettered",
        err=True,
    )


@dlq_app.command("list")
def dlq_list(
    limit: Annotated[int, typer.Option(help="Most deliveries to show, newest first.")] = 50,
    integration: Annotated[int | None, typer.Option(help="Only this integration's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")] = False,
) -> None:
    """Deliveries in the dead-letter queue: what each is, how often it was tried, its last error."""
    from webhook_sink.worker import dead_letters

    with connect() as conn:
        rows = dead_letters(conn, limit=limit, integration_id=integration)
    if as_json:
        typer.echo(json.dumps(rows, default=str, indent=2))
        return
    if not rows:
        typer.echo("The dead-letter queue is empty.")
        return
    for row in rows:
        typer.echo(
            f"{row['delivery_id']}  {row['provider']} integration {row['integration_id']} ({row['tenant_id']})  "
            f"event {row['event_id']}  received {row['received_at']:%Y-%m-%d %H:%M:%S%z}  attempts {row['attempts']}\n"
            f"    {row['last_error']}"
        )


@dlq_app.command("replay")
def dlq_replay(
    delivery_ids: Annotated[
        list[int] | None, typer.Argument(help="Delivery ids (from `dlq list`).", show_default=False)
    ] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every dead delivery.")] = False,
) -> None:
    """Put dead deliveries back in the queue with their attempts reset; the worker takes them again."""
    from webhook_sink.worker import replay

    if bool(delivery_ids) == replay_all:
        raise UserError("Name the deliveries to replay (ids from `conciliador sink dlq list`) or pass --all, not both.")
    with connect() as conn:
        count = replay(conn, None if replay_all else list(delivery_ids or []))
    typer.echo(f"{count} deliver{'y' if count == 1 else 'ies'} back in the queue.")
