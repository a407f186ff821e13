"""No secret on any process's command line while the documented commands run.

Every local user can read every process's arguments (/proc/PID/cmdline, `ps`). A watcher
thread reads all of them in a tight loop while each command runs; the first test proves it
catches the old way (`psql postgresql://user:password@…`), so the others mean something.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from ingestion import pg_auth
from ingestion.pg_binaries import bin_dir
from ingestion.settings import PROJECT_ROOT

CLIENT_SECRET = "cs-Zq81-never-in-argv"
WEBHOOK_SECRET = "wh-Kx42-never-in-argv"


class ArgvWatch:
    """Every distinct command line seen in /proc while it runs."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        me = str(os.getpid())
        while not self._stop.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or pid == me:
                    continue
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as handle:
                        raw = handle.read()
                except OSError:
                    continue
                if raw:
                    self.seen.add(raw.replace(b"\0", b" ").decode(errors="replace"))

    def __enter__(self) -> ArgvWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def leaks(self, secrets: list[str]) -> list[str]:
        return sorted(cmd for cmd in self.seen if any(secret in cmd for secret in secrets))


@contextmanager
def watched() -> Iterator[ArgvWatch]:
    with ArgvWatch() as watch:
        yield watch


def conciliador(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=180,
    )


def test_the_watch_sees_a_password_passed_the_old_way(warehouse_url: str) -> None:
    """What `db psql` used to do: the URL, password included, as psql's argument."""
    password = psycopg.conninfo.conninfo_to_dict(warehouse_url)["password"]
    with watched() as watch:
        subprocess.run(
            [str(bin_dir() / "psql"), warehouse_url, "-c", "select pg_sleep(0.3)"], check=True, capture_output=True
        )
    assert watch.leaks([password]), "the watcher must catch a password on a command line"


def test_db_psql_keeps_database_url_password_off_the_command_line(warehouse_url: str) -> None:
    password = psycopg.conninfo.conninfo_to_dict(warehouse_url)["password"]
    with watched() as watch:
        result = conciliador("db", "psql", "-c", "select pg_sleep(0.3), current_user", env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "conciliador" in result.stdout
    assert not watch.leaks([password])


def test_documented_commands_keep_every_secret_off_command_lines(other_checkout_home: Path) -> None:
    env = dict(os.environ)  # the fixture unset DATABASE_URL and points CONCILIADOR_HOME at a fresh folder
    commands: list[tuple[tuple[str, ...], str | None]] = [
        (("db", "up"), None),
        (("db", "url"), None),
        (("db", "psql", "-c", "select pg_sleep(0.3)"), None),
        (
            (
                "integrations", "add", "--tenant", "t1", "--provider", "pluggy", "--credential", "client_id=cid-1",
                "--credentials-stdin", "--external-id", "item_ids=item-1",
            ),
            f'{{"client_secret": "{CLIENT_SECRET}", "webhook_secret": "{WEBHOOK_SECRET}"}}',
        ),
    ]
    with watched() as watch:
        outputs = {}
        for args, stdin in commands:
            result = conciliador(*args, env=env, stdin=stdin)
            assert result.returncode == 0, (args, result.stderr)
            outputs[args[:2]] = result.stdout + result.stderr
    passwords = pg_auth.read_passwords()
    assert passwords is not None
    secrets = [passwords.owner, passwords.superuser, CLIENT_SECRET, WEBHOOK_SECRET]
    assert not watch.leaks(secrets)
    assert any("initdb" in cmd for cmd in watch.seen), "the watcher saw the server being made"
    for printed in outputs.values():
        assert passwords.owner not in printed and passwords.superuser not in printed
    assert "conciliador:***@127.0.0.1" in outputs[("db", "url")]
    shown = conciliador("db", "url", "--show-password", env=env)
    assert passwords.owner in shown.stdout


def test_a_secret_as_an_argument_is_refused_and_allowed_only_with_a_warning(warehouse_url: str) -> None:
    args = ("integrations", "add", "--tenant", "t1", "--provider", "pluggy", "--external-id", "item_ids=i")
    refused = conciliador(*args, "--credential", "client_id=c", "--credential", f"client_secret={CLIENT_SECRET}",
                          env=dict(os.environ))
    assert refused.returncode == 2
    assert "client_secret is a secret" in refused.stderr and "--credentials-stdin" in refused.stderr
    assert CLIENT_SECRET not in refused.stderr

    webhook = conciliador(*args, "--webhook-secret", WEBHOOK_SECRET, env=dict(os.environ),
                          stdin=f"client_id=c\nclient_secret={CLIENT_SECRET}\n")
    assert webhook.returncode == 2 and "webhook_secret is a secret" in webhook.stderr

    with watched() as watch:
        allowed = conciliador(*args, "--credential", "client_id=c", "--credential", f"client_secret={CLIENT_SECRET}",
                              "--allow-secret-in-args", env=dict(os.environ))
    assert allowed.returncode == 0, allowed.stderr
    assert "warning: client_secret given as an argument" in allowed.stderr
    assert watch.leaks([CLIENT_SECRET]), "allowed on purpose, and the watcher sees it"


def test_credentials_come_from_a_file_or_the_environment(warehouse_url: str, tmp_path: Path) -> None:
    from ingestion import integrations
    from ingestion.vault import Keyring

    creds = tmp_path / "pluggy.env"
    creds.write_text(f"# Pluggy\nclient_id=from-file\nclient_secret={CLIENT_SECRET}\n")
    env = {**os.environ, "CONCILIADOR_CREDENTIAL_CLIENT_ID": "from-env", "CONCILIADOR_WEBHOOK_SECRET": WEBHOOK_SECRET}
    base = ("integrations", "add", "--tenant", "t-file", "--provider", "pluggy", "--external-id", "item_ids=i")
    from_file = conciliador(*base, "--credentials-file", str(creds), env=env)
    assert from_file.returncode == 0, from_file.stderr
    only_env = conciliador(*base, "--name", "env", env={**env, "CONCILIADOR_CREDENTIAL_CLIENT_SECRET": CLIENT_SECRET})
    assert only_env.returncode == 0, only_env.stderr
    missing = conciliador(*base, "--name", "missing", env=env)
    assert missing.returncode == 2 and "needs credentials client_secret" in missing.stderr

    with psycopg.connect(warehouse_url) as conn:
        by_name = {i.name: i for i in integrations.list_all(conn) if i.tenant_id == "t-file"}
        keyring = Keyring.load()
        assert integrations.credentials(conn, keyring, by_name["default"]) == {
            "client_id": "from-file",  # the file wins over the environment
            "client_secret": CLIENT_SECRET,
        }
        assert integrations.credentials(conn, keyring, by_name["env"])["client_id"] == "from-env"



def test_a_missing_secret_is_asked_for_without_echo_on_a_terminal(warehouse_url: str) -> None:
    """At a terminal, a required field nobody gave is prompted for; a secret is not echoed."""
    import pty
    import select
    import time

    args = [sys.executable, "-m", "cli.main", "integrations", "add", "--tenant", "t-tty", "--provider", "pluggy",
            "--credential", "client_id=cid-tty", "--external-id", "item_ids=i"]
    pid, leader = pty.fork()  # the child's controlling terminal is the pty, as in a real shell
    if pid == 0:
        os.chdir(PROJECT_ROOT)
        os.execve(sys.executable, args, dict(os.environ))
    screen = b""

    def read_until(marker: bytes, timeout: float = 60) -> None:
        nonlocal screen
        deadline = time.monotonic() + timeout
        while marker not in screen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    screen += os.read(leader, 4096)
                except OSError:
                    break
        assert marker in screen, screen

    read_until(b"client_secret: ")  # click writes the name, getpass the space once echo is off
    os.write(leader, CLIENT_SECRET.encode() + b"\n")
    read_until(b"is active.")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    os.close(leader)
    assert CLIENT_SECRET.encode() not in screen, "the secret was echoed"
    assert b"client_id:" not in screen, "given fields are not asked for"
