"""Bad input at the command line ends in one clear sentence and exit code 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ingestion.settings import PROJECT_ROOT


def conciliador(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["integrations", "list"],
            {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing"},
            "Cannot connect to DATABASE_URL",
        ),
        (["integrations", "list"], {"DATABASE_URL": "mysql://root@localhost/x"}, "must start with postgresql://"),
        (["run", "--date", "2026-13-01"], {}, "--date must be a date like 2026-10-31"),
        (["sync", "--integration", "1", "--start", "2026-10-05", "--end", "2026-10-01"], {}, "is before --start"),
        (
            ["integrations", "add", "--tenant", "t1", "--provider", "bancodobrasil"],
            {},
            "Unknown provider 'bancodobrasil'",
        ),
        (
            ["integrations", "add", "--tenant", "t1", "--provider", "pluggy", "--credential", "client_id"],
            {},
            "--credential takes NAME=VALUE",
        ),
        (["integrations", "disable", "999999"], {}, "No integration with id 999999"),
        (["tolerances", "set", "--tenant", "t1", "--value-tolerance", "-1"], {}, "--value-tolerance must be"),
        (["integrations", "list"], {"CONCILIADOR_SECRET_KEYS": "k1:short"}, None),
    ],
)
def test_bad_input_gets_one_sentence(warehouse_url: str, args: list[str], env: dict, message: str | None) -> None:
    result = conciliador(*args, env=env)
    if message is None:  # listing needs no key: a bad key must not break read-only commands
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 3


def test_wrong_provider_credentials_are_explained(clean_warehouse: str) -> None:
    from sandbox.server import start_in_thread
    from sandbox.world import World, WorldConfig

    world = World(WorldConfig(tenants=1, stores_per_tenant=1, days=2, orders_per_day=2))
    base_url, stop = start_in_thread(world, port=0)
    try:
        tenant = world.credentials(base_url)["tenants"][0]
        added = conciliador(
            "integrations",
            "add",
            "--tenant",
            tenant["tenant_id"],
            "--provider",
            "pluggy",
            "--credentials-stdin",
            "--external-id",
            f"item_ids={tenant['pluggy']['item_ids'][0]}",
            "--base-url",
            f"{base_url}/pluggy",
            stdin=f"client_id={tenant['pluggy']['client_id']}\nclient_secret=wrong\n",
        )
        assert added.returncode == 0, added.stderr
        result = conciliador("sync", "--integration", "1", "--start", "2026-10-01", "--end", "2026-10-02")
    finally:
        stop()
    assert result.returncode == 2
    assert "pluggy refused the credentials (401)" in result.stderr
    assert "Traceback" not in result.stderr
    assert "wrong" not in result.stderr, "the secret must never be echoed"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://someone:Kq7@Zx9@127.0.0.1:1/db", "must be percent-encoded"),
        ("postgresql://someone:Ab1:Cd2/Ef3@127.0.0.1:1/db", "must be percent-encoded"),
        ("postgresql://someone:Rt5%zzY@127.0.0.1:1/db", "must be percent-encoded"),
        ("postgresql://someone:Kq7%40Zx9@127.0.0.1:1/db", "Cannot connect to DATABASE_URL"),
    ],
)
def test_no_part_of_a_database_password_is_printed(url: str, message: str) -> None:
    result = conciliador("integrations", "list", env={"DATABASE_URL": url})
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    for piece in ("Kq7", "Zx9", "Ab1", "Cd2", "Ef3", "Rt5", "zzY"):
        assert piece not in result.stderr, result.stderr
