"""`conciliador db upgrade`: carry a data directory made by an older PostgreSQL over to the bundled one.

Earlier versions ran PostgreSQL 16 from the `pgserver` wheel; a major version cannot open
another's data directory. pg_upgrade needs both versions' binaries, so the old ones come
from `--old-bindir` or, for 16, from the pgserver 0.1.4 wheel fetched once with the project's
own pip (.tools). The old directory is kept beside the new one, untouched apart from its
owner, until the user deletes it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from ingestion import pg_auth, pg_binaries
from ingestion.errors import UserError
from ingestion.pg_server import EmbeddedServer, _live_postmaster_port, _read_state, _write_state
from ingestion.settings import PROJECT_ROOT, state_dir

# What earlier Conciliador versions shipped, per major version.
KNOWN_OLD_WHEELS = {"16": "pgserver==0.1.4"}


def upgrade(server: EmbeddedServer, old_bindir: Path | None) -> Path:
    """Upgrade `server`'s data directory in place; returns where the old one is kept."""
    pgdata = server.pgdata
    version_file = pgdata / "PG_VERSION"
    if not version_file.exists():
        raise UserError(f"There is no data directory in {pgdata} to upgrade; `conciliador db up` creates one.")
    old_major = version_file.read_text().strip()
    new_major = str(pg_binaries.bundled_major())
    if old_major == new_major:
        raise UserError(f"{pgdata} already holds a PostgreSQL {new_major} warehouse; nothing to upgrade.")
    old_bin = old_bindir or _fetch_old_binaries(old_major)
    if not (old_bin / "pg_ctl").exists():
        raise UserError(f"{old_bin} has no pg_ctl; pass the bin folder of PostgreSQL {old_major} with --old-bindir.")

    user = pg_binaries.os_user()
    _stop_old_server(pgdata, old_bin)
    passwords = pg_auth.read_passwords() or pg_auth.create_passwords()
    new_pgdata = pgdata.with_name(pgdata.name + f".pg{new_major}")
    if new_pgdata.exists():
        shutil.rmtree(new_pgdata)  # an earlier attempt that did not finish
    staging = EmbeddedServer(pgdata=new_pgdata, port=server.port)
    staging._init(user, data_checksums=_has_checksums(old_bin, pgdata))
    if user is not None:
        _chown_tree(pgdata, user)
        pg_binaries.hand_over(old_bin, user)
        pg_binaries.open_tree(old_bin.parent.parent)
    with tempfile.TemporaryDirectory(prefix="pgup") as work:
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(work, entry.pw_uid, entry.pw_gid)
        result = subprocess.run(
            [
                str(pg_binaries.bin_dir() / "pg_upgrade"),
                "-b",
                str(old_bin),
                "-B",
                str(pg_binaries.bin_dir()),
                "-d",
                str(pgdata),
                "-D",
                str(new_pgdata),
                "-U",
                pg_auth.SUPERUSER,
                "-p",
                str(_free_port()),
                "-P",
                str(_free_port()),
                f"--socketdir={work}",
            ],
            user=user,
            cwd=work,
            env={**os.environ, "PGPASSWORD": passwords.superuser},
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        lines = [line for line in result.stdout.splitlines() if line.strip()][-3:]
        raise UserError(
            f"pg_upgrade failed (exit {result.returncode}): {' / '.join(lines)}; "
            f"{pgdata} is unchanged, see {new_pgdata}/pg_upgrade_output.d."
        )
    kept = pgdata.with_name(f"{pgdata.name}-pg{old_major}-{datetime.now():%Y%m%d%H%M%S}")
    pgdata.rename(kept)
    new_pgdata.rename(pgdata)
    state = _read_state()
    state.pop("auth", None)  # the next start hands the upgraded objects to the owner role
    _write_state(state)
    server.start()
    return kept


def _fetch_old_binaries(major: str) -> Path:
    wheel = KNOWN_OLD_WHEELS.get(major)
    if wheel is None:
        raise UserError(f"Pass the bin folder of PostgreSQL {major} (the one that made the data) with --old-bindir.")
    target = state_dir() / f"pg{major}-binaries"
    bin_path = target / "pgserver" / "pginstall" / "bin"
    if bin_path.exists():
        return bin_path
    pip = PROJECT_ROOT / ".tools" / "bin" / "pip"
    if not pip.exists():
        raise UserError(
            f"PostgreSQL {major}'s binaries are needed: `pip install --no-deps --target {target} {wheel}`, "
            f"then `conciliador db upgrade --old-bindir {bin_path}`."
        )
    result = subprocess.run(
        [str(pip), "install", "--quiet", "--no-deps", "--target", str(target), wheel],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not bin_path.exists():
        raise UserError(f"Could not install {wheel} into {target}: {result.stderr.strip().splitlines()[-1:]}.")
    return bin_path


def _stop_old_server(pgdata: Path, old_bin: Path) -> None:
    """The old server (it outlived its last command) must be down before pg_upgrade reads its files."""
    if _live_postmaster_port(pgdata) is None:
        return
    owner = pwd.getpwuid(pgdata.stat().st_uid).pw_name if os.geteuid() == 0 else None
    result = subprocess.run(
        [str(old_bin / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
        user=owner,
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise UserError(f"Could not stop the old server of {pgdata}: {result.stderr.strip().splitlines()[-1:]}.")


def _has_checksums(old_bin: Path, pgdata: Path) -> bool:
    result = subprocess.run([str(old_bin / "pg_controldata"), str(pgdata)], capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if line.startswith("Data page checksum version:"):
            return line.split(":", 1)[1].strip() != "0"
    return False


def _chown_tree(root: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for folder, _, files in os.walk(root):
        os.lchown(folder, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.lchown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
