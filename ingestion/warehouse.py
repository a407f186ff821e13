"""The warehouse connection: the embedded PostgreSQL by default, or DATABASE_URL.

The embedded server uses the PostgreSQL binaries shipped inside the `pgserver` wheel but is
driven here directly (initdb / pg_ctl) rather than through `pgserver.get_server`, because we
want a server that outlives the Python process (BI tools, `conciliador db psql`, Airflow
tasks in other processes) and listens on a loopback TCP port instead of a socket path whose
length depends on where the project was cloned.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from ingestion.errors import UserError
from ingestion.settings import external_database_url, state_dir

DEFAULT_PORT = 54329
DATABASE_NAME = "conciliador"
SCHEMA_SQL = Path(__file__).with_name("schema.sql")


@dataclass
class EmbeddedServer:
    """A project-local PostgreSQL data directory and how to reach it."""

    pgdata: Path
    port: int

    @classmethod
    def default(cls) -> EmbeddedServer:
        pgdata = state_dir() / "pgdata"
        port = _read_state().get("port") or int(os.environ.get("CONCILIADOR_PG_PORT", DEFAULT_PORT))
        return cls(pgdata=pgdata, port=port)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE_NAME}"

    @property
    def log_file(self) -> Path:
        return self.pgdata.parent / "postgres.log"

    def is_running(self) -> bool:
        """True only when *this* data directory's server answers on our port.

        Another checkout's embedded server (or any PostgreSQL) may hold the same port; talking
        to it would silently put this project's data in someone else's warehouse.
        """
        try:
            with psycopg.connect(self._admin_url(), connect_timeout=2) as conn:
                served = conn.execute("select current_setting('data_directory')").fetchone()[0]
        except psycopg.Error:
            return False
        return Path(served).resolve() == self.pgdata.resolve()

    def start(self) -> None:
        """Initialise the data directory on first use, then start the server if it is down."""
        bin_dir = postgres_bin()

        run_as = _postgres_os_user()
        if not (self.pgdata / "PG_VERSION").exists():
            self.pgdata.mkdir(parents=True, exist_ok=True)
            _hand_over(self.pgdata, run_as, bin_dir)
            _run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    "postgres",
                ],
                run_as,
            )
        if self.is_running():
            return
        port = self.port if _port_is_free(self.port) else _free_port()
        self.log_file.touch()
        _hand_over(self.log_file, run_as, bin_dir)
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' "
            "-c fsync=on -c max_connections=100 -c shared_buffers=256MB "
            "-c max_wal_size=4GB -c timezone=UTC"
        )
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            run_as,
        )
        _write_state({"port": port})
        self.port = port
        with psycopg.connect(self._admin_url(), autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE_NAME,)).fetchone()
            if not exists:
                conn.execute(f'create database "{DATABASE_NAME}"')

    def stop(self) -> bool:
        bin_dir = postgres_bin()

        if not (self.pgdata / "postmaster.pid").exists():
            return False
        _run(
            [str(bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
            _postgres_os_user(),
        )
        return True

    def _admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


def database_url(*, start: bool = True) -> str:
    """The URL everything connects to: DATABASE_URL if set, else the embedded server's.

    With `start`, the embedded server is brought up on demand, so a fresh clone needs no
    separate step before its first command.
    """
    external = external_database_url()
    if external:
        return _normalise(external)
    server = EmbeddedServer.default()
    if start:
        server.start()
        server = EmbeddedServer.default()
    return server.url


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
            f"Cannot connect to {where} ({_redact(url)}): {first_line}. "
            "Check that the server is running and the URL is right, or unset DATABASE_URL "
            "to use the embedded warehouse."
        ) from exc


# Every raw table: the provider payload as jsonb plus the one key column staging needs,
# lineage columns, and version_key = md5(tenant_id, external_id, payload_hash) as a uuid,
# one narrow unique key that makes loads idempotent. A changed record (same external_id,
# new payload hash) adds a version; staging reads the latest.
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
    {key_column}     text
);
-- Incremental staging models read only what was loaded since their last build. Rows are
-- appended in load order, so a BRIN index answers that for almost nothing at insert time.
create index if not exists {loaded_at_index} on raw.{table} using brin (loaded_at)
"""


def ensure_schema(url: str) -> None:
    """Create the warehouse schemas and raw/ops/control tables; safe to run every time."""
    from psycopg import sql

    from ingestion.raw_writer import RAW_TABLES

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(727274)")
        try:
            conn.execute(SCHEMA_SQL.read_text())
            for table, key_column in RAW_TABLES.items():
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


def _normalise(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    if not url.startswith("postgresql://"):
        raise UserError(
            f"DATABASE_URL must start with postgresql:// (got {_redact(url)!r}); "
            "for example postgresql://user:password@host:5432/dbname."
        )
    return url


def _redact(url: str) -> str:
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable URL>"
    if info.get("password"):
        info["password"] = "***"
    return psycopg.conninfo.make_conninfo(**info)


def postgres_bin() -> Path:
    """The PostgreSQL binaries shipped in the pgserver wheel.

    pgserver warns about XDG_RUNTIME_DIR at import; we never use that directory.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        from pgserver._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


def _postgres_os_user() -> str | None:
    """PostgreSQL refuses to run as root; under root we use pgserver's unprivileged user."""
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


def _hand_over(path: Path, user: str | None, bin_path: Path) -> None:
    if user is None:
        return
    import pwd
    import stat

    from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

    ensure_prefix_permissions(path)
    ensure_prefix_permissions(bin_path)
    ensure_folder_permissions(bin_path, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_path.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _run(cmd: list[str], user: str | None) -> None:
    result = subprocess.run(cmd, user=user, capture_output=True, text=True, cwd="/", check=False)
    if result.returncode != 0:
        raise UserError(
            f"The embedded PostgreSQL failed ({Path(cmd[0]).name} exited {result.returncode}): "
            f"{(result.stderr or result.stdout).strip().splitlines()[-1:]}; "
            f"see {EmbeddedServer.default().log_file}."
        )


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _state_file() -> Path:
    return state_dir() / "warehouse.json"


def _read_state() -> dict:
    try:
        return json.loads(_state_file().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _write_state(state: dict) -> None:
    _state_file().write_text(json.dumps(state))
