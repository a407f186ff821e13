"""The control table of integrations: who we extract from, for which tenant, with what secrets."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import psycopg
from psycopg.rows import dict_row

from ingestion.errors import UserError
from ingestion.vault import Keyring, create_key_file
from plugins.providers.errors import UnknownProviderError
from plugins.providers.registry import provider_class


@dataclass(frozen=True)
class Integration:
    integration_id: int
    tenant_id: str
    provider: str
    name: str
    external_ids: dict[str, list[str]]
    base_url: str | None
    key_id: str
    is_active: bool

    def context(self, field: str) -> str:
        return _context(self.tenant_id, self.provider, self.name, field)


def add(
    conn: psycopg.Connection,
    keyring: Keyring,
    *,
    tenant_id: str,
    provider: str,
    credentials: Mapping[str, str],
    external_ids: Mapping[str, Sequence[str]],
    name: str = "default",
    base_url: str | None = None,
    webhook_secret: str | None = None,
) -> Integration:
    """Create or replace an integration (same tenant, provider and name), re-activating it."""
    cls = _provider(provider)
    if not tenant_id.strip():
        raise UserError("The tenant id is empty; pass --tenant with a non-empty id.")
    missing = [f for f in cls.credential_fields if not str(credentials.get(f, "")).strip()]
    if missing:
        raise UserError(
            f"{provider} needs credentials {', '.join(missing)}; give them on standard input (--credentials-stdin), "
            "from a file (--credentials-file), in CONCILIADOR_CREDENTIAL_<NAME> variables, or at the prompt."
        )
    ids = {key: [str(v) for v in values if str(v).strip()] for key, values in external_ids.items()}
    empty = [f for f in cls.external_id_fields if not ids.get(f)]
    if empty:
        raise UserError(
            f"{provider} needs at least one id in {', '.join(empty)}; pass them with --external-id NAME=ID."
        )
    if base_url is not None:
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UserError(f"Base URL {base_url!r} is not an http(s) URL.")
    keyring = keyring_for_sealing(conn, keyring)
    sealed = keyring.seal(
        {k: str(v) for k, v in credentials.items()}, context=_context(tenant_id, provider, name, "credentials")
    )
    secret = (
        keyring.seal(webhook_secret, context=_context(tenant_id, provider, name, "webhook_secret"))
        if webhook_secret
        else None
    )
    row = conn.execute(
        """
        insert into control.integrations
            (tenant_id, provider, name, external_ids, base_url, credentials, webhook_secret, key_id, is_active)
        values (%s, %s, %s, %s, %s, %s, %s, %s, true)
        on conflict (tenant_id, provider, name) do update set
            external_ids = excluded.external_ids, base_url = excluded.base_url,
            credentials = excluded.credentials, webhook_secret = excluded.webhook_secret,
            key_id = excluded.key_id, is_active = true, updated_at = now()
        returning integration_id
        """,
        (tenant_id, provider, name, json.dumps(ids), base_url, sealed, secret, keyring.primary_id),
    ).fetchone()
    conn.commit()
    return get(conn, row[0])


def get(conn: psycopg.Connection, integration_id: int) -> Integration:
    rows = _select(conn, "where integration_id = %s", (integration_id,))
    if not rows:
        raise UserError(f"No integration with id {integration_id}; `conciliador integrations list` shows them.")
    return rows[0]


def list_all(conn: psycopg.Connection, *, active_only: bool = False) -> list[Integration]:
    return _select(conn, "where is_active" if active_only else "", ())


def disable(conn: psycopg.Connection, integration_id: int) -> Integration:
    integration = get(conn, integration_id)
    conn.execute(
        "update control.integrations set is_active = false, updated_at = now() where integration_id = %s",
        (integration_id,),
    )
    conn.commit()
    return integration


def credentials(conn: psycopg.Connection, keyring: Keyring, integration: Integration) -> dict[str, str]:
    if not integration.key_id:
        raise UserError(
            f"Integration {integration.integration_id} ({integration.tenant_id}/{integration.provider}/"
            f"{integration.name}) has no credentials since `conciliador integrations reset-key`; give them again "
            "with `conciliador integrations add` (same tenant, provider and --name)."
        )
    blob = conn.execute(
        "select credentials from control.integrations where integration_id = %s", (integration.integration_id,)
    ).fetchone()[0]
    return keyring.open_json(bytes(blob), key_id=integration.key_id, context=integration.context("credentials"))


def webhook_secret(conn: psycopg.Connection, keyring: Keyring, integration: Integration) -> str | None:
    """The integration's webhook secret in plain text, or None when it has none."""
    row = conn.execute(
        "select webhook_secret from control.integrations where integration_id = %s", (integration.integration_id,)
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return keyring.open(
        bytes(row[0]), key_id=integration.key_id, context=integration.context("webhook_secret")
    ).decode()


def rotate(conn: psycopg.Connection, keyring: Keyring) -> int:
    """Re-seal every secret under the primary key; returns how many integrations changed."""
    changed = 0
    with conn.transaction():
        rows = conn.execute(
            "select integration_id, tenant_id, provider, name, credentials, webhook_secret, key_id "
            "from control.integrations where key_id <> %s and key_id <> '' for update",
            (keyring.primary_id,),
        ).fetchall()
        for integration_id, tenant_id, provider, name, creds, secret, key_id in rows:
            ctx = _context(tenant_id, provider, name, "credentials")
            plain = keyring.open(bytes(creds), key_id=key_id, context=ctx).decode()
            new_creds = keyring.seal(plain, context=ctx)
            new_secret = None
            if secret is not None:
                sctx = _context(tenant_id, provider, name, "webhook_secret")
                new_secret = keyring.seal(
                    keyring.open(bytes(secret), key_id=key_id, context=sctx).decode(), context=sctx
                )
            conn.execute(
                "update control.integrations set credentials = %s, webhook_secret = %s, key_id = %s, "
                "updated_at = now() where integration_id = %s",
                (new_creds, new_secret, keyring.primary_id, integration_id),
            )
            changed += 1
    return changed


# The mark of an integration whose secrets were forgotten (`integrations reset-key`): no key
# id, empty ciphertext, disabled until `integrations add` gives its credentials again.
FORGOTTEN = ""


def keyring_for_sealing(conn: psycopg.Connection, keyring: Keyring) -> Keyring:
    """The keyring with a key to seal under, making the embedded key file only when nothing needs the old one.

    A missing key file with secrets still sealed under some key means the key was lost:
    making a new one quietly would turn every old secret into a false "tampered with".
    """
    if keyring.primary_id is not None:
        return keyring
    current = Keyring.load()  # an earlier call (same loop, other process) may have made the file
    if current.primary_id is not None:
        return current
    waiting = unreadable_key_ids(conn, keyring)
    if waiting:
        raise UserError(keyring.missing_key_message(sorted(waiting)))
    return create_key_file()


def unreadable_key_ids(conn: psycopg.Connection, keyring: Keyring) -> dict[str, int]:
    """Key ids that sealed stored secrets but are not in the keyring, with how many integrations use each."""
    rows = conn.execute(
        "select key_id, count(*) from control.integrations where key_id <> %s group by key_id", (FORGOTTEN,)
    ).fetchall()
    return {key_id: count for key_id, count in rows if key_id not in keyring.keys}


def forget_unreadable_secrets(conn: psycopg.Connection, keyring: Keyring) -> list[Integration]:
    """Drop the secrets no available key opens and disable their integrations; returns them."""
    missing = list(unreadable_key_ids(conn, keyring))
    if not missing:
        return []
    forgotten = _select(conn, "where key_id = any(%s)", (missing,))
    conn.execute(
        "update control.integrations set credentials = ''::bytea, webhook_secret = null, key_id = %s, "
        "is_active = false, updated_at = now() where key_id = any(%s)",
        (FORGOTTEN, missing),
    )
    conn.commit()
    return forgotten


def _select(conn: psycopg.Connection, where: str, params: tuple[Any, ...]) -> list[Integration]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select integration_id, tenant_id, provider, name, external_ids, base_url, key_id, is_active "
            f"from control.integrations {where} order by integration_id",
            params,
        )
        return [Integration(**row) for row in cur.fetchall()]


def _provider(name: str):
    try:
        return provider_class(name)
    except UnknownProviderError as exc:
        raise UserError(str(exc)) from None


def _context(tenant_id: str, provider: str, name: str, field: str) -> str:
    return f"control.integrations|{tenant_id}|{provider}|{name}|{field}"
