"""Passwords of the embedded warehouse: where they are kept and how the server learns them.

Two roles: the superuser `postgres`, used only to bootstrap (initdb, roles, databases,
upgrades), and the owner `conciliador`, a plain role owning the project's databases that
everything else connects as. Their generated passwords live in the state folder beside the
vault's key file, in libpq's password-file format (mode 0600), so any libpq tool can use them
with PGPASSFILE=.conciliador/pgpass.

The server only ever sees SCRAM verifiers computed here, never a plain password: not in SQL
text a log could keep, not in initdb's password file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ingestion.settings import state_dir

SUPERUSER = "postgres"
OWNER = "conciliador"
HOST = "127.0.0.1"
SCRAM_ITERATIONS = 4096
# Only password (SCRAM) lines, for local sockets and loopback TCP, replication included.
HBA = """\
# Written by Conciliador (ingestion/pg_auth.py): password authentication only, SCRAM-SHA-256.
# Passwords: .conciliador/pgpass. See docs/warehouse.md before editing.
local   all             all                                     scram-sha-256
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     scram-sha-256
host    replication     all             127.0.0.1/32            scram-sha-256
host    replication     all             ::1/128                 scram-sha-256
"""
ACCEPTED_METHODS = {"scram-sha-256", "reject"}


@dataclass(frozen=True)
class Passwords:
    superuser: str
    owner: str


def passwords_file() -> Path:
    return state_dir() / "pgpass"


def read_passwords() -> Passwords | None:
    """The generated passwords, or None when the file is absent."""
    try:
        text = passwords_file().read_text()
    except FileNotFoundError:
        return None
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            fields = _split_pgpass(line)
            if len(fields) == 5:
                found[fields[3]] = fields[4]
    if SUPERUSER not in found or OWNER not in found:
        return None
    return Passwords(superuser=found[SUPERUSER], owner=found[OWNER])


def create_passwords(*, replace: bool = False) -> Passwords:
    """Generate both passwords and write them (mode 0600); refuses to overwrite unless `replace`."""
    passwords = Passwords(superuser=secrets.token_urlsafe(32), owner=secrets.token_urlsafe(32))
    path = passwords_file()
    body = "# Conciliador's embedded warehouse (libpq password file; keep it private, mode 0600).\n" + "".join(
        f"{HOST}:*:*:{_escape(user)}:{_escape(password)}\n"
        for user, password in ((SUPERUSER, passwords.superuser), (OWNER, passwords.owner))
    )
    temporary = path.with_name(path.name + ".new")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(body)
    if replace:
        os.replace(temporary, path)
    else:
        try:
            os.link(temporary, path)  # fails if another process wrote it first
        finally:
            temporary.unlink()
    return passwords


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677)."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def hba_is_password_only(pgdata: Path) -> bool:
    """True when every pg_hba.conf rule authenticates by SCRAM password (or rejects)."""
    try:
        text = (pgdata / "pg_hba.conf").read_text()
    except FileNotFoundError:
        return False
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if fields[0].startswith("include"):
            return False  # rules we cannot see from here
        method_at = 3 if fields[0] == "local" else 4
        if len(fields) <= method_at or fields[method_at] not in ACCEPTED_METHODS:
            return False
    return True


def write_hba(pgdata: Path, owner_uid: int | None, owner_gid: int | None) -> None:
    """Replace pg_hba.conf with the password-only rules (the server reads it on reload)."""
    path = pgdata / "pg_hba.conf"
    temporary = path.with_name("pg_hba.conf.new")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(HBA)
    if owner_uid is not None and owner_gid is not None:
        os.chown(temporary, owner_uid, owner_gid)
    os.replace(temporary, path)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def _split_pgpass(line: str) -> list[str]:
    fields, current, escaped = [], [], False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields
