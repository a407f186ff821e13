"""The warehouse connection: the embedded PostgreSQL by default, or DATABASE_URL.

Everything (raw writer, dbt, Airflow tasks, CLI) connects with `database_url()`: the embedded
server's non-superuser owner role, or the user's own server exactly as DATABASE_URL gives it.
`admin_url()` is for the few things that need more (creating a database for tests or
benchmarks). The embedded server itself lives in ingestion/pg_server.py.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from ingestion.errors import UserError
from ingestion.pg_auth import OWNER
from ingestion.pg_server import DATABASE_NAME, EmbeddedServer
from ingestion.redact import redact_url, scrub, url_password
from ingestion.settings import external_database_url

__all__ = [
    "DATABASE_NAME",
    "EmbeddedServer",
    "admin_url",
    "check_reachable",
    "connection_parts",
    "create_database",
    "database_url",
    "drop_database",
    "ensure_schema",
    "known_secrets",
    "prepare_warehouse",
    "split_password",
    "with_database",
]

SCHEMA_SQL = Path(__file__).with_name("schema.sql")


def database_url(*, start: bool = True) -> str:
    """The URL everything connects to: DATABASE_URL if set, else the embedded owner role's.

    With `start`, the embedded server is brought up on demand, so a fresh clone needs no
    separate step before its first command. The URL holds a password: print it only through
    `redact_url`, and hand it to other programs by environment, never as an argument.
    """
    external = external_database_url()
    if external:
        return _normalise(external)
    server = EmbeddedServer.default()
    if start:
        server.start()
    return server.url()


def admin_url() -> str:
    """A URL allowed to create and drop databases: the embedded superuser, or DATABASE_URL as given.

    For bootstrapping only (tests and benchmarks make their own databases with it); the
    pipeline never uses it.
    """
    external = external_database_url()
    if external:
        return _normalise(external)
    server = EmbeddedServer.default()
    server.start()
    return server.admin_url()


def create_database(name: str, *, replace: bool = False) -> str:
    """Create a database the pipeline's role owns (tests, benchmarks); returns its URL as that role.

    With DATABASE_URL the database is made by, and belongs to, DATABASE_URL's own user.
    """
    url = database_url()
    owner = None if external_database_url() else sql.Identifier(OWNER)
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        if replace:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        statement = sql.SQL("create database {}").format(sql.Identifier(name))
        if owner is not None:
            statement = sql.SQL("{} owner {}").format(statement, owner)
        conn.execute(statement)
    return with_database(url, name)


def drop_database(name: str) -> None:
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def prepare_warehouse() -> str:
    """The URL of a reachable warehouse with its schemas in place: what every command needs first."""
    url = database_url()
    check_reachable(url)
    ensure_schema(url)
    return url


def check_reachable(url: str) -> None:
    """Fail with one clear sentence when the database does not answer."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError as exc:
        where = "DATABASE_URL" if external_database_url() else "the embedded warehouse"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"Cannot connect to {where} ({redact_url(url)}): {scrub(first_line, _url_secrets(url))}. "
            "Check that the server is running and the URL is right, or unset DATABASE_URL "
            "to use the embedded warehouse."
        ) from exc


# Every raw table: the provider payload as jsonb plus the one key column staging needs,
# lineage columns, and version_key = md5(tenant_id, external_id, payload_hash) as a uuid,
# one narrow unique key that makes loads idempotent. A changed record (same external_id,
# new payload hash) adds a version; staging reads the latest. received_at: for a row landed
# from a webhook, when the platform delivered it (the sink's receipt time; a replay passes the
# original time), since some platforms' payloads carry no time of their own; null for API rows.
RAW_TABLE_DDL = """
create table if not exists raw.{table} (
    tenant_id        text not null,
    integration_id   bigint not null,
    sync_run_id      bigint,
    source           text not null default 'api',
    external_id      text not null,
    payload_hash     text not null,
    version_key      uuid not null unique,
    payload          jsonb not null,
    loaded_at        timestamptz not null default now(),
    received_at      timestamptz,
    {key_column}     text
);
-- Added after the first release: when the platform delivered a webhook row (null for API rows).
alter table raw.{table} add column if not exists received_at timestamptz;
-- Incremental staging models read only what was loaded since their last build. Rows are
-- appended in load order, so a BRIN index answers that for almost nothing at insert time.
create index if not exists {loaded_at_index} on raw.{table} using brin (loaded_at)
"""


def ensure_schema(url: str) -> None:
    """Create the warehouse schemas and raw/ops/control tables; safe to run every time."""
    from psycopg import sql

    from ingestion.raw_writer import raw_tables

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(727274)")
        try:
            conn.execute(SCHEMA_SQL.read_text())
            for table, key_column in raw_tables().items():
                conn.execute(
                    sql.SQL(RAW_TABLE_DDL).format(
                        table=sql.Identifier(table),
                        key_column=sql.Identifier(key_column),
                        loaded_at_index=sql.Identifier(f"{table}_loaded_at_brin"),
                    )
                )
        finally:
            conn.execute("select pg_advisory_unlock(727274)")


def with_database(url: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def split_password(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it.

    For handing a connection to another program (psql): arguments are world-readable in
    /proc, a child's environment is not.
    """
    info = psycopg.conninfo.conninfo_to_dict(url)
    password = info.pop("password", None)
    return psycopg.conninfo.make_conninfo(**info), ({"PGPASSWORD": str(password)} if password else {})


def connection_parts(url: str) -> dict[str, str | int]:
    """Split a URL into the pieces dbt's profile wants."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    return {
        "host": info.get("host", "127.0.0.1"),
        "port": int(info.get("port", 5432)),
        "user": info.get("user", "postgres"),
        "password": info.get("password", ""),
        "dbname": info.get("dbname", "postgres"),
    }


def known_secrets() -> list[str]:
    """Passwords this process could leak: DATABASE_URL's and the embedded warehouse's."""
    from ingestion import pg_auth

    found: list[str] = []
    external = external_database_url()
    if external:
        found += _url_secrets(external)
    passwords = pg_auth.read_passwords()
    if passwords:
        found += [passwords.superuser, passwords.owner]
    return found


def _url_secrets(url: str) -> list[str]:
    written = url_password(url)
    return [written, unquote(written)] if written else []


def _normalise(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql://" + url[len(prefix) :]
            break
    if not url.startswith("postgresql://"):
        raise UserError(
            f"DATABASE_URL must start with postgresql:// (got {redact_url(url)!r}); "
            "for example postgresql://user:password@host:5432/dbname."
        )
    _check_password_encoding(url)
    return url


def _check_password_encoding(url: str) -> None:
    """Refuse a password libpq would misread: its pieces would end up in host names and errors.

    An unencoded `@`, `:`, `/`, `?`, `#` or stray `%` makes libpq take part of the password
    for the host, port or database, and then print that part in its own error messages.
    """
    written = url_password(url)
    if written is None:
        return
    try:
        parsed = psycopg.conninfo.conninfo_to_dict(url).get("password")
    except psycopg.ProgrammingError:
        parsed = None
    if parsed is None or parsed != unquote(written) or any(c in written for c in "@/?#"):
        raise UserError(
            f"The password in DATABASE_URL ({redact_url(url)}) must be percent-encoded: "
            "write @ as %40, : as %3A, / as %2F, ? as %3F, # as %23 and % as %25."
        )
