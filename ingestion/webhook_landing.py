"""Land one webhook delivery: authenticate it with its integration's secret, parse it, write its records.

The webhook sink calls `land` for every request it accepts, and tests call it directly. In order:
the integration (provider, tenant, webhook secret opened through the vault), then its provider's
`WebhookScheme` verifies the request (its WebhookError propagates and nothing is stored), parses
the body (WebhookPayloadError likewise), and the event's records go through the raw writer with
`source = 'webhook'`, in one transaction with the delivery's row in `ops.webhook_deliveries`.

Raw rows need no sync run (`sync_run_id` is null for them): a webhook is not the extraction of an
interval, and a made-up `ops.sync_runs` row would tell freshness that an interval was extracted.
So each delivery is recorded on its own, redeliveries included, with what the platform said
(event id, type, time) and how many raw rows it added.

A redelivery lands nothing new: the event id is what a platform's redeliveries share, so a
delivery whose event id this integration already landed writes no raw row (even if the platform
re-encoded the body), only its delivery row with `rows_written = 0`. Two copies arriving at once
are serialised by a transaction lock on (integration, event id).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg.types.json import Jsonb

from ingestion import integrations, raw_writer
from ingestion.errors import UserError
from ingestion.vault import Keyring
from plugins.providers.registry import provider_class

log = logging.getLogger(__name__)

# Advisory lock namespace (first key of the two-key form) for "this event is being landed".
_EVENT_LOCK_NAMESPACE = 72721


class WebhookTargetError(UserError):
    """The delivery names no integration that can take webhooks (unknown, disabled, no secret, or
    a platform that sends none); `http_status` is what the sink answers."""

    http_status = 404


@dataclass(frozen=True)
class Landing:
    delivery_id: int
    integration_id: int
    provider: str
    event_id: str
    event_type: str
    rows_written: int
    rows_by_table: dict[str, dict[str, int]]
    redelivery: bool


def land(
    conn: psycopg.Connection,
    integration_id: int,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    raw_body: bytes,
    *,
    keyring: Keyring | None = None,
    received_at: datetime | None = None,
) -> Landing:
    """Verify, parse and land one delivery for `integration_id`, then commit; raise before storing anything.

    `headers` as received (any case), `query` the request's query parameters (for schemes that
    sign them; the schemes here verify with headers and body), `raw_body` the bytes exactly as
    received. Raises WebhookTargetError when the integration cannot take webhooks and
    the scheme's WebhookError when the request does not authenticate or is not the documented
    shape; the connection's transaction is then rolled back. `received_at` is when the platform
    delivered it: now, for the sink; a replay of recorded deliveries passes their original time.
    """
    received_at = received_at or datetime.now(UTC)
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    try:
        landing = _land(conn, integration_id, headers, query, raw_body, keyring, received_at)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    log.info(
        "webhook %s integration %s event %s: %d new raw rows%s",
        landing.provider,
        integration_id,
        landing.event_id,
        landing.rows_written,
        " (redelivery)" if landing.redelivery else "",
    )
    return landing


def _land(
    conn: psycopg.Connection,
    integration_id: int,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    raw_body: bytes,
    keyring: Keyring | None,
    received_at: datetime,
) -> Landing:
    try:
        integration = integrations.get(conn, integration_id)
    except UserError as exc:
        raise WebhookTargetError(str(exc)) from None
    where = f"Integration {integration_id} ({integration.tenant_id}/{integration.provider}/{integration.name})"
    if not integration.is_active:
        raise WebhookTargetError(f"{where} is disabled; it takes no webhooks.")
    scheme = provider_class(integration.provider).webhook
    if scheme is None:
        raise WebhookTargetError(f"{where} cannot take a webhook: {integration.provider} sends none.")
    secret = integrations.webhook_secret(conn, keyring or Keyring.load(), integration)
    if not secret:
        raise WebhookTargetError(
            f"{where} has no webhook secret, so no delivery can be verified; give it one with "
            "`conciliador integrations add` (same tenant, provider and --name) and --webhook-secret."
        )
    scheme.verify(secret, headers, raw_body, query=query)
    event = scheme.parse(raw_body)

    conn.execute(
        "select pg_advisory_xact_lock(%s, hashtext(%s))", (_EVENT_LOCK_NAMESPACE, f"{integration_id}|{event.event_id}")
    )
    seen = conn.execute(
        "select exists (select from ops.webhook_deliveries where integration_id = %s and event_id = %s)",
        (integration_id, event.event_id),
    ).fetchone()[0]
    by_table: dict[str, dict[str, int]] = {}
    written = 0
    if not seen:
        stats = raw_writer.write(
            conn,
            event.records,
            tenant_id=integration.tenant_id,
            integration_id=integration_id,
            sync_run_id=None,
            source=event.source,
            received_at=received_at,
        )
        by_table, written = stats.by_table(), stats.rows_written
    delivery_id = conn.execute(
        "insert into ops.webhook_deliveries (integration_id, tenant_id, provider, event_id, event_type, occurred_at, "
        "received_at, rows_written, rows_by_table) values (%s, %s, %s, %s, %s, %s, %s, %s, %s) returning delivery_id",
        (
            integration_id,
            integration.tenant_id,
            integration.provider,
            event.event_id,
            event.event_type,
            event.occurred_at,
            received_at,
            written,
            Jsonb(by_table),
        ),
    ).fetchone()[0]
    return Landing(
        delivery_id, integration_id, integration.provider, event.event_id, event.event_type, written, by_table, seen
    )
