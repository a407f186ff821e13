"""The embedded PostgreSQL: a project-local data directory served on a loopback port.

We drive initdb / pg_ctl directly because we want a server that outlives the Python process
(BI tools, `conciliador db psql`, Airflow tasks in other processes) and listens on a loopback
TCP port instead of a socket path whose length depends on where the project was cloned.

Access is by password only (SCRAM): the superuser bootstraps, the pipeline connects as the
non-superuser owner of the project's databases (see ingestion/pg_auth.py). Data directories
made by earlier versions (trust authentication, everything owned by the superuser) are
secured in place on their next start.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from ingestion import pg_auth, pg_binaries
from ingestion.errors import UserError
from ingestion.pg_auth import HOST, OWNER, SUPERUSER, Passwords
from ingestion.settings import state_dir

DEFAULT_PORT = 54329
DATABASE_NAME = "conciliador"
# Bumped when securing a data directory learns a new step; older directories redo it once.
AUTH_VERSION = 1


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
    def log_file(self) -> Path:
        return self.pgdata.parent / "postgres.log"

    def url(self, database: str = DATABASE_NAME) -> str:
        """The owner role's URL (password included: hand it to programs by environment only)."""
        return self._url(OWNER, self._passwords().owner, database)

    def admin_url(self, database: str = "postgres") -> str:
        """The superuser's URL: for bootstrapping, creating databases and upgrades only."""
        return self._url(SUPERUSER, self._passwords().superuser, database)

    def is_running(self) -> bool:
        """True when *this* data directory's server is up (its postmaster.pid names a live postgres).

        Asking the port instead could find another checkout's server there and silently put
        this project's data in someone else's warehouse.
        """
        return _live_postmaster_port(self.pgdata) is not None

    def start(self) -> None:
        """Initialise on first use, start if down, and make sure access is by password only."""
        with _lock():
            user = pg_binaries.os_user()
            if not (self.pgdata / "PG_VERSION").exists():
                self._init(user)
            self._check_major()
            passwords = pg_auth.read_passwords()
            if passwords is None:
                if self._is_secured():
                    raise UserError(
                        f"The embedded warehouse needs passwords but {pg_auth.passwords_file()} is missing: "
                        "put the file back, or run `conciliador db down` then `conciliador db reset-passwords`."
                    )
                passwords = pg_auth.create_passwords()  # a trust-era directory: set on securing below
            port = _live_postmaster_port(self.pgdata)
            if port is None:
                port = self._start_server(user)
            self.port = port
            state = _read_state()
            if state.get("port") != port:
                _write_state({**state, "port": port})
            if not (self._is_secured() and state.get("auth") == AUTH_VERSION):
                self._secure(passwords, user)

    def stop(self) -> bool:
        if _live_postmaster_port(self.pgdata) is None:
            return False
        pg_binaries.run(
            [str(pg_binaries.bin_dir() / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
            pg_binaries.os_user(),
            log_file=self.log_file,
        )
        return True

    def reset_passwords(self) -> None:
        """New passwords for a stopped server whose password file was lost (single-user mode)."""
        if self.is_running():
            raise UserError("Stop the embedded warehouse first: `conciliador db down`.")
        if not (self.pgdata / "PG_VERSION").exists():
            raise UserError(f"There is no embedded warehouse in {self.pgdata} yet; `conciliador db up` creates one.")
        self._check_major()
        passwords = pg_auth.create_passwords(replace=True)
        statement = sql.SQL("alter role {} password {}").format(
            sql.Identifier(SUPERUSER), sql.Literal(pg_auth.scram_verifier(passwords.superuser))
        )
        pg_binaries.run(
            [str(pg_binaries.bin_dir() / "postgres"), "--single", "-D", str(self.pgdata), "postgres"],
            pg_binaries.os_user(),
            log_file=self.log_file,
            stdin=statement.as_string(None) + "\n",
        )
        state = _read_state()
        state.pop("auth", None)  # the next start sets the owner's password through the superuser
        _write_state(state)

    # ------------------------------------------------------------------ internals

    def _url(self, user: str, password: str, database: str) -> str:
        return f"postgresql://{user}:{quote(password, safe='')}@{HOST}:{self.port}/{database}"

    def _passwords(self) -> Passwords:
        passwords = pg_auth.read_passwords()
        if passwords is None:
            raise UserError(f"{pg_auth.passwords_file()} is missing; `conciliador db up` explains what to do.")
        return passwords

    def _is_secured(self) -> bool:
        return pg_auth.hba_is_password_only(self.pgdata)

    def _check_major(self) -> None:
        found = (self.pgdata / "PG_VERSION").read_text().strip()
        bundled = pg_binaries.bundled_major()
        if found != str(bundled):
            raise UserError(
                f"{self.pgdata} holds a PostgreSQL {found} warehouse (made by an earlier Conciliador) that "
                f"PostgreSQL {bundled} cannot open: carry it over with `conciliador db upgrade` "
                f"(docs/warehouse.md), or move it aside and run `conciliador db up` for an empty one."
            )

    def _init(self, user: str | None, *, data_checksums: bool = True) -> None:
        bins = pg_binaries.bin_dir()
        passwords = pg_auth.read_passwords() or pg_auth.create_passwords()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        pg_binaries.hand_over(self.pgdata, user)
        # initdb reads the superuser's password from a file; a SCRAM verifier is accepted there,
        # so the plain password never leaves our own password file.
        pwfile = self.pgdata.parent / ".initdb-password"
        pwfile.unlink(missing_ok=True)
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(pg_auth.scram_verifier(passwords.superuser) + "\n")
        pg_binaries.hand_over(pwfile, user)
        try:
            pg_binaries.run(
                [
                    str(bins / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    SUPERUSER,
                    *([] if data_checksums else ["--no-data-checksums"]),
                ],
                user,
                log_file=self.log_file,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        uid, gid = _owner_ids(self.pgdata)
        pg_auth.write_hba(self.pgdata, uid, gid)

    def _start_server(self, user: str | None) -> int:
        port = self.port if _port_is_free(self.port) else _free_port()
        self.log_file.touch(mode=0o600)
        self.log_file.chmod(0o600)  # statements in errors land here
        pg_binaries.hand_over(self.log_file, user)
        options = (
            f"-c listen_addresses={HOST} -p {port} -c unix_socket_directories='' "
            "-c fsync=on -c max_connections=100 -c shared_buffers=256MB "
            "-c max_wal_size=4GB -c timezone=UTC -c password_encryption=scram-sha-256"
        )
        pg_binaries.run(
            [
                str(pg_binaries.bin_dir() / "pg_ctl"),
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
            user,
            log_file=self.log_file,
        )
        return port

    def _secure(self, passwords: Passwords, user: str | None) -> None:
        """Roles, passwords, ownership and password-only rules; idempotent, also for trust-era directories."""
        admin = self._url(SUPERUSER, passwords.superuser, "postgres")
        try:
            conn = psycopg.connect(admin, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            if "password authentication failed" in str(exc):
                raise UserError(
                    f"The embedded warehouse refused the superuser password in {pg_auth.passwords_file()}: "
                    "if the file was replaced, put the right one back, or run `conciliador db down` then "
                    "`conciliador db reset-passwords`."
                ) from None
            raise
        with conn:
            _set_password(conn, SUPERUSER, passwords.superuser, create=False)
            _set_password(conn, OWNER, passwords.owner, create=True)
            exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE_NAME,)).fetchone()
            if not exists:
                conn.execute(
                    sql.SQL("create database {} owner {}").format(sql.Identifier(DATABASE_NAME), sql.Identifier(OWNER))
                )
            project_databases = [
                row[0]
                for row in conn.execute(
                    "select datname from pg_database where datname = %s or datname like %s",
                    (DATABASE_NAME, DATABASE_NAME + "\\_%"),
                )
            ]
            for database in project_databases:
                conn.execute(
                    sql.SQL("alter database {} owner to {}").format(sql.Identifier(database), sql.Identifier(OWNER))
                )
            if not self._is_secured():
                uid, gid = _owner_ids(self.pgdata)
                pg_auth.write_hba(self.pgdata, uid, gid)
                conn.execute("select pg_reload_conf()")
        for database in project_databases:
            with psycopg.connect(self._url(SUPERUSER, passwords.superuser, database), autocommit=True) as db:
                _hand_objects_to_owner(db)
        _refuses_a_wrong_password(self._url(OWNER, "not-" + passwords.owner, DATABASE_NAME))
        _write_state({**_read_state(), "auth": AUTH_VERSION})


def _set_password(conn: psycopg.Connection, role: str, password: str, *, create: bool) -> None:
    verifier = sql.Literal(pg_auth.scram_verifier(password))
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
    if exists or not create:
        conn.execute(sql.SQL("alter role {} with login password {}").format(sql.Identifier(role), verifier))
    else:
        conn.execute(
            sql.SQL("create role {} with login nosuperuser nocreatedb nocreaterole password {}").format(
                sql.Identifier(role), verifier
            )
        )


# Objects earlier versions created as the superuser: every schema but the system ones and
# `public` (owned by pg_database_owner, i.e. already the owner), and what lives in them.
_OWNED_BY_SUPERUSER = """
select format('alter schema %I owner to %I', n.nspname, {owner})
from pg_namespace n
where n.nspowner = 'postgres'::regrole and n.nspname not like 'pg\\_%' and n.nspname not in ('information_schema', 'public')
union all
select format('alter %s %I.%I owner to %I',
              case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence'
                             when 'f' then 'foreign table' else 'table' end,
              n.nspname, c.relname, {owner})
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relowner = 'postgres'::regrole and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
  and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
  and not (c.relkind = 'S' and exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i')))
union all
select format('alter routine %s owner to %I', p.oid::regprocedure, {owner})
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where p.proowner = 'postgres'::regrole and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
"""


def _hand_objects_to_owner(conn: psycopg.Connection) -> None:
    """Give the owner role what the superuser created in a project database (trust-era data)."""
    query = sql.SQL(_OWNED_BY_SUPERUSER).format(owner=sql.Literal(OWNER))
    for (statement,) in conn.execute(query).fetchall():
        conn.execute(statement)


def _refuses_a_wrong_password(url: str) -> None:
    """Securing ends with proof: the server must turn a wrong password away."""
    try:
        with psycopg.connect(url, connect_timeout=10):
            pass
    except psycopg.OperationalError as exc:
        if "password authentication failed" in str(exc):
            return
        raise
    raise UserError("The embedded warehouse accepted a wrong password after securing it; see docs/warehouse.md.")


def _live_postmaster_port(pgdata: Path) -> int | None:
    """The port of the live server this data directory's postmaster.pid names, if any."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except (FileNotFoundError, IndexError, ValueError, PermissionError):
        return None
    return port if comm == "postgres" else None


def _owner_ids(path: Path) -> tuple[int | None, int | None]:
    if os.geteuid() != 0:
        return None, None
    info = path.stat()
    return info.st_uid, info.st_gid


@contextmanager
def _lock() -> Iterator[None]:
    """One process at a time initialises, starts or secures the server."""
    with open(state_dir() / "warehouse.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
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
