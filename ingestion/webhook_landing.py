"""Land webhook deliveries in two steps: admit and store (the request path), then process (the worker).

1. **Admit and store** (`target`, `admit`, `store`): the integration (provider, tenant, webhook secret
   opened through the vault), then its provider's `WebhookScheme` verifies the request (its
   WebhookError propagates and nothing is stored) and parses the body for the event id, and the
   delivery is inserted into `ops.webhook_deliveries`, the inbox: raw body, the headers and query
   parameters worth keeping (`kept_headers`, `kept_query`: never a secret), status `pending`. The
   webhook sink answers 202 only once that insert is committed (webhook_sink/group_commit.py
   commits many at once with the same `STORE_SQL`).
2. **Process** (`process`): parse the stored body and write its records through the raw writer with
   `source = 'webhook'`, then mark the row `done` with how many raw rows it added; a failure
   is recorded on the row (attempts, next attempt, last error) and retried with exponential
   backoff until it goes `dead`, the dead-letter queue. The worker (webhook_sink/worker.py)
   claims rows for it with FOR UPDATE SKIP LOCKED.

`land` is the two in a row, for one delivery: what tests, the demo's replay of recorded deliveries
and the benchmarks call.

Dedupe at the door: the event id is what a platform's redeliveries share, so the inbox is unique on
(integration, event id) and a redelivery inserts nothing (`on conflict do nothing`) and lands no raw
row, even if the platform re-encoded the body. A verified body its scheme cannot parse is stored all
the same, keyed by the SHA-256 of the body, and goes straight to the dead-letter queue with the parse
error: it is authentic, so it must not be lost, and a fixed parser can replay it.

Raw rows need no sync run (`sync_run_id` is null for them): a webhook is not the extraction of an
interval, and a made-up `ops.sync_runs` row would tell freshness that an interval was extracted.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ingestion import integrations, raw_writer
from ingestion.errors import UserError
from ingestion.vault import Keyring
from plugins.providers.base import WebhookScheme
from plugins.providers.errors import UnknownProviderError, WebhookPayloadError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
"""Processing attempts before a delivery goes to the dead-letter queue."""

BODY_KEY_PREFIX = "body-sha256:"
"""The event id of a verified body its scheme cannot parse: the body's own hash, so a redelivery dedupes."""

# Headers worth keeping for audit and parsing: what the body is, who sent it, the platform's request id
# and the signature headers (an HMAC reveals nothing of its key). Everything else is dropped, so a
# secret a scheme sends in a header of its own (a static token) is never stored.
_KEPT_HEADERS = frozenset(
    {"content-type", "content-encoding", "user-agent", "x-request-id", "webhook-id", "webhook-timestamp"}
)
_SIGNATURE_HEADER = re.compile(r"(^|-)signature(-|$)")
_SECRET_NAME = re.compile(r"token|secret|password|passwd|key|auth|cookie", re.IGNORECASE)
_LAST_ERROR_CHARS = 2000

# The inbox's columns a delivery is stored with, and each one's type.
STORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("integration_id", "bigint"),
    ("tenant_id", "text"),
    ("provider", "text"),
    ("event_id", "text"),
    ("event_type", "text"),
    ("occurred_at", "timestamptz"),
    ("received_at", "timestamptz"),
    ("headers", "jsonb"),
    ("query", "jsonb"),
    ("body", "text"),
    ("status", "text"),
    ("last_error", "text"),
)
_SELECTED = ", ".join(name if name != "body" else "decode(body, 'base64')" for name, _ in STORE_COLUMNS)
STORE_SQL = (
    f"insert into ops.webhook_deliveries ({', '.join(name for name, _ in STORE_COLUMNS)}) "
    f"select {_SELECTED} "
    f"from json_to_recordset(%s::json) as delivery({', '.join(f'{name} {kind}' for name, kind in STORE_COLUMNS)}) "
    "on conflict (integration_id, event_id) do nothing returning delivery_id, integration_id, event_id"
)
"""The inbox insert for any number of admissions, given as one JSON array (`store_params`): one
statement text whatever the count (prepared once), one parameter encoded in C (msgspec) rather than
a dozen arrays adapted value by value, bodies in base64. A redelivery (same integration and event
id) inserts nothing; `returning` names the rows that are new."""

_ENCODE_BATCH = msgspec.json.Encoder()


def store_params(admissions: Sequence[Admission]) -> tuple[str]:
    """`STORE_SQL`'s one parameter: the admissions as a JSON array of rows."""
    return (_ENCODE_BATCH.encode([a.row() for a in admissions]).decode(),)


class WebhookTargetError(UserError):
    """The delivery names no integration that can take webhooks (unknown, disabled, no secret, or
    a platform that sends none); `http_status` is what the sink answers."""

    http_status = 404


@dataclass(frozen=True)
class Target:
    """An integration that can take webhooks: its scheme and its secret (in memory only, never printed)."""

    integration: integrations.Integration
    scheme: WebhookScheme
    secret: str = field(repr=False)
    updated_at: datetime | None = None

    @property
    def integration_id(self) -> int:
        return self.integration.integration_id


@dataclass(frozen=True)
class Admission:
    """A verified delivery, ready to be stored; `parse_error` set when its body did not parse."""

    integration_id: int
    tenant_id: str
    provider: str
    event_id: str
    event_type: str | None
    occurred_at: datetime | None
    received_at: datetime
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes = field(repr=False)
    parse_error: str | None = None

    def row(self) -> dict[str, Any]:
        """The row of `STORE_COLUMNS` (msgspec writes the body as base64, times as RFC 3339)."""
        return {
            "integration_id": self.integration_id,
            "tenant_id": self.tenant_id,
            "provider": self.provider,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at,
            "received_at": self.received_at,
            "headers": self.headers,
            "query": self.query,
            "body": self.body,
            "status": "dead" if self.parse_error else "pending",
            "last_error": self.parse_error,
        }


@dataclass(frozen=True)
class Backoff:
    """When a failed delivery is tried again: `base_s` × `factor`^(attempts − 1), at most `cap_s`.

    After `max_attempts` failures it goes to the dead-letter queue. The defaults give 30 s, 2 min,
    8 min and 32 min between the five attempts: long enough to ride out a deploy or a restart of the
    warehouse, short enough that the daily run sees the rows.
    """

    base_s: float = 30.0
    factor: float = 4.0
    cap_s: float = 3600.0
    max_attempts: int = MAX_ATTEMPTS

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.cap_s, self.base_s * self.factor ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Processed:
    """What processing one stored delivery did: rows written, or the error and whether it is now dead."""

    delivery_id: int
    rows_written: int = 0
    rows_by_table: dict[str, dict[str, int]] = field(default_factory=dict)
    error: BaseException | None = None
    dead: bool = False


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


# ----------------------------------------------------------------------------- step 1: admit and store


def target(conn: psycopg.Connection, integration_id: int, keyring: Keyring) -> Target:
    """The integration `integration_id` as a webhook target; WebhookTargetError when it cannot take any."""
    from plugins.providers.registry import provider_class

    try:
        integration = integrations.get(conn, integration_id)
    except UserError as exc:
        raise WebhookTargetError(str(exc)) from None
    where = f"Integration {integration_id} ({integration.tenant_id}/{integration.provider}/{integration.name})"
    if not integration.is_active:
        raise WebhookTargetError(f"{where} is disabled; it takes no webhooks.")
    try:
        scheme = provider_class(integration.provider).webhook
    except UnknownProviderError:
        scheme = None
    if scheme is None:
        raise WebhookTargetError(f"{where} cannot take a webhook: {integration.provider} sends none.")
    secret = integrations.webhook_secret(conn, keyring, integration)
    if not secret:
        raise WebhookTargetError(
            f"{where} has no webhook secret, so no delivery can be verified; give it one with "
            "`conciliador integrations add` (same tenant, provider and --name) and --webhook-secret."
        )
    updated_at = conn.execute(
        "select updated_at from control.integrations where integration_id = %s", (integration_id,)
    ).fetchone()[0]
    return Target(integration, scheme, secret, updated_at)


def webhook_integration_ids(conn: psycopg.Connection, provider: str) -> list[int]:
    """The active integrations of `provider` that have a webhook secret: who a bare provider URL may be for."""
    rows = conn.execute(
        "select integration_id from control.integrations where provider = %s and is_active "
        "and webhook_secret is not null order by integration_id",
        (provider,),
    ).fetchall()
    return [row[0] for row in rows]


def admit(
    target: Target,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    raw_body: bytes,
    *,
    received_at: datetime,
) -> Admission:
    """Verify the request with the target's scheme and secret, and read its event id from the body.

    Raises the scheme's WebhookError (nothing may be stored) when the request does not authenticate.
    A body that authenticates but does not parse is admitted with `parse_error` set, keyed by its hash.
    """
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    target.scheme.verify(target.secret, headers, raw_body, query=query)
    integration = target.integration
    try:
        event = target.scheme.parse(raw_body)
    except WebhookPayloadError as exc:
        event_id, event_type, occurred_at, error = body_key(raw_body), None, None, str(exc)
    else:
        event_id, event_type, occurred_at, error = event.event_id, event.event_type, event.occurred_at, None
        if "\x00" in event_id or "\x00" in event_type:  # PostgreSQL text cannot hold NUL
            event_id, event_type, occurred_at, error = body_key(raw_body), None, None, "the event id or type holds NUL"
    return Admission(
        integration.integration_id,
        integration.tenant_id,
        integration.provider,
        event_id,
        event_type,
        occurred_at,
        received_at,
        kept_headers(headers, target.secret),
        kept_query(query, target.secret),
        bytes(raw_body),
        error,
    )


def body_key(raw_body: bytes) -> str:
    return BODY_KEY_PREFIX + hashlib.sha256(raw_body).hexdigest()


def kept_headers(headers: Mapping[str, str], secret: str) -> dict[str, str]:
    """The headers stored with a delivery: an allow-list (see `_KEPT_HEADERS`) plus signature headers,
    minus any whose value holds the secret; names lower-cased."""
    kept = {}
    for name, value in headers.items():
        lowered = name.lower()
        if (lowered in _KEPT_HEADERS or _SIGNATURE_HEADER.search(lowered)) and not _holds(value, secret):
            kept[lowered] = value.replace("\x00", "")
    return kept


def kept_query(query: Mapping[str, str], secret: str) -> dict[str, str]:
    """The query parameters stored with a delivery: all but those named like a credential or holding the secret."""
    return {
        name.replace("\x00", ""): value.replace("\x00", "")
        for name, value in query.items()
        if not _SECRET_NAME.search(name) and not _holds(value, secret)
    }


def _holds(value: str, secret: str) -> bool:
    return bool(secret) and secret in value


def store(conn: psycopg.Connection, admission: Admission) -> tuple[int, bool]:
    """Insert the admission into the inbox, in the caller's transaction: (delivery id, whether it is new).

    A redelivery (same integration and event id) inserts nothing and gives the stored row's id.
    """
    row = conn.execute(STORE_SQL, store_params([admission])).fetchone()
    if row is not None:
        return row[0], True
    existing = conn.execute(
        "select delivery_id from ops.webhook_deliveries where integration_id = %s and event_id = %s",
        (admission.integration_id, admission.event_id),
    ).fetchone()
    return existing[0], False


# ----------------------------------------------------------------------------- step 2: process


CLAIM_COLUMNS = "delivery_id, integration_id, tenant_id, provider, body, received_at, attempts"


def claim(conn: psycopg.Connection, *, limit: int, delivery_id: int | None = None) -> list[dict[str, Any]]:
    """Lock up to `limit` pending deliveries that are due (oldest due first), skipping rows another
    worker holds; or the one `delivery_id` if it is pending, whenever due. In the caller's transaction."""
    where = "status = 'pending' and " + ("delivery_id = %s" if delivery_id is not None else "next_attempt_at <= now()")
    params: tuple[Any, ...] = (delivery_id, limit) if delivery_id is not None else (limit,)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"select {CLAIM_COLUMNS} from ops.webhook_deliveries where {where} "
            "order by next_attempt_at limit %s for update skip locked",
            params,
        )
        return cur.fetchall()


def process(conn: psycopg.Connection, row: Mapping[str, Any], backoff: Backoff = Backoff()) -> Processed:
    """Parse one claimed delivery and write its raw rows, in a savepoint of the caller's transaction.

    Success marks it `done` with the rows it added. A failure rolls its raw rows back and is recorded
    on the row: a body its scheme cannot parse goes `dead` at once (parsing it again cannot help),
    anything else is tried again after `backoff` until the last attempt, then goes `dead`. A lost
    connection is raised (nothing can be recorded; the row stays pending for the next claim).
    """
    from plugins.providers.registry import provider_class

    delivery_id, attempts = row["delivery_id"], row["attempts"] + 1
    try:
        with conn.transaction():
            scheme = provider_class(row["provider"]).webhook
            if scheme is None:
                raise WebhookPayloadError(f"{row['provider']} no longer has a webhook scheme")
            event = scheme.parse(bytes(row["body"]))
            stats = raw_writer.write(
                conn,
                event.records,
                tenant_id=row["tenant_id"],
                integration_id=row["integration_id"],
                sync_run_id=None,
                source=event.source,
                received_at=row["received_at"],
            )
            by_table = stats.by_table()
            conn.execute(
                "update ops.webhook_deliveries set status = 'done', attempts = %s, rows_written = %s, "
                "rows_by_table = %s, processed_at = now(), next_attempt_at = null, last_error = null "
                "where delivery_id = %s",
                (attempts, stats.rows_written, Jsonb(by_table), delivery_id),
            )
    except Exception as exc:
        if conn.closed or conn.broken:
            raise
        dead = isinstance(exc, WebhookPayloadError) or attempts >= backoff.max_attempts
        error = f"{type(exc).__name__}: {exc}"[:_LAST_ERROR_CHARS]
        conn.execute(
            "update ops.webhook_deliveries set status = %s, attempts = %s, last_error = %s, "
            "next_attempt_at = case when %s then null else now() + %s end where delivery_id = %s",
            ("dead" if dead else "pending", attempts, error, dead, backoff.delay(attempts), delivery_id),
        )
        log.warning(
            "webhook delivery %s (%s, integration %s) failed attempt %d%s: %s",
            delivery_id,
            row["provider"],
            row["integration_id"],
            attempts,
            " and went to the dead-letter queue" if dead else "",
            error,
        )
        return Processed(delivery_id, error=exc, dead=dead)
    return Processed(delivery_id, stats.rows_written, by_table)


# ----------------------------------------------------------------------------- both steps: land


def land(
    conn: psycopg.Connection,
    integration_id: int,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    raw_body: bytes,
    *,
    keyring: Keyring | None = None,
    received_at: datetime | None = None,
    backoff: Backoff = Backoff(),
) -> Landing:
    """Admit, store and process one delivery for `integration_id`, committing after each step.

    `headers` as received (any case), `query` the request's query parameters (for schemes that sign
    them), `raw_body` the bytes exactly as received. Raises WebhookTargetError when the integration
    cannot take webhooks and the scheme's WebhookError when the request does not authenticate:
    nothing is stored then. A body that authenticates but does not parse is stored in the dead-letter
    queue and its WebhookPayloadError raised; a failure to write its raw rows is recorded for a retry
    (see `process`) and raised. `received_at` is when the platform delivered it: now, for the sink; a
    replay of recorded deliveries passes their original time.
    """
    received_at = received_at or datetime.now(UTC)
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    try:
        admission = admit(
            target(conn, integration_id, keyring or Keyring.load()), headers, query, raw_body, received_at=received_at
        )
        delivery_id, new = store(conn, admission)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    if admission.parse_error is not None:
        raise WebhookPayloadError(admission.parse_error)
    processed = Processed(delivery_id)
    if new:
        try:
            rows = claim(conn, limit=1, delivery_id=delivery_id)
            processed = process(conn, rows[0], backoff) if rows else processed
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        if processed.error is not None:
            raise processed.error
    log.info(
        "webhook %s integration %s event %s: %d new raw rows%s",
        admission.provider,
        integration_id,
        admission.event_id,
        processed.rows_written,
        "" if new else " (redelivery)",
    )
    return Landing(
        delivery_id,
        integration_id,
        admission.provider,
        admission.event_id,
        admission.event_type or "",
        processed.rows_written,
        processed.rows_by_table,
        not new,
    )
