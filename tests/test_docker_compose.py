"""docker-compose.yml stays valid without a Docker engine: schema, references, commands.

The schema is the Compose specification's JSON schema as shipped in the docker-compose 1.29.2
wheel from PyPI (`make env` downloads it into .tools/wheels).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WHEEL = ROOT / ".tools" / "wheels" / "docker_compose-1.29.2-py2.py3-none-any.whl"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def schema() -> dict:
    assert WHEEL.exists(), f"{WHEEL} is missing; `make env` downloads it from PyPI"
    with zipfile.ZipFile(WHEEL) as wheel:
        return json.loads(wheel.read("compose/config/compose_spec.json"))


def test_compose_file_matches_the_compose_schema(compose: dict, schema: dict) -> None:
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_the_schema_really_rejects_a_broken_file(compose: dict, schema: dict) -> None:
    broken = {
        **compose,
        "services": {**compose["services"], "warehouse": {**compose["services"]["warehouse"], "ports": "5432"}},
    }
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_references_resolve(compose: dict) -> None:
    services = compose["services"]
    volumes = set(compose.get("volumes", {}))
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith((".", "/")) or source in volumes, f"{name} mounts undeclared volume {source}"


def test_the_stack_has_what_the_design_asks_for(compose: dict) -> None:
    services = compose["services"]
    assert {"warehouse", "airflow-metadata", "airflow-scheduler", "airflow-api-server", "sandbox"} <= set(services)
    assert {"sink", "sink-worker"} <= set(services)
    for name in ("sink", "sink-worker"):
        assert "@warehouse:" in services[name]["environment"]["DATABASE_URL"]
    scheduler_env = services["airflow-scheduler"]["environment"]
    assert scheduler_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert "@warehouse:" in scheduler_env["DATABASE_URL"]


def test_every_conciliador_command_in_the_file_exists(compose: dict) -> None:
    commands = []
    for service in compose["services"].values():
        command = service.get("command")
        if isinstance(command, list) and command[:2] == ["bash", "-c"]:
            commands += [shlex.split(part) for part in command[2].split("&&")]
        elif isinstance(command, list):
            commands.append(command)
    ours = [c for c in commands if c and c[0] == "conciliador"]
    assert ours
    for command in ours:
        words = [w for w in command[1:] if not w.startswith("-")]
        options = [w.split("=")[0] for w in command[1:] if w.startswith("--")]
        subcommand = [w for w in words if not w[0].isdigit() and w != "0.0.0.0"]
        help_text = subprocess.run(
            [sys.executable, "-m", "cli.main", *subcommand, "--help"], capture_output=True, text=True, cwd=ROOT
        )
        assert help_text.returncode == 0, help_text.stderr
        for option in options:
            assert option in help_text.stdout, f"`conciliador {' '.join(subcommand)}` has no {option}"


def test_no_password_is_fixed_in_the_file_and_nothing_listens_beyond_loopback(compose: dict) -> None:
    """Passwords come from the environment (`${VAR:?…}`), as the embedded warehouse's are generated."""
    text = (ROOT / "docker-compose.yml").read_text()
    for url in re.findall(r"postgresql(?:\+\w+)?://[^\s\"']+", text):
        password = url.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
        assert password.startswith("${") and ":?" in password, f"a fixed password in {url}"
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key or "SECRET" in key:
                assert str(value).startswith("${") and ":?" in str(value), f"{name}: {key} is fixed"
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_the_warehouse_wants_scram_and_the_pipeline_is_no_superuser(compose: dict) -> None:
    warehouse = compose["services"]["warehouse"]
    assert "--auth-host=scram-sha-256" in warehouse["environment"]["POSTGRES_INITDB_ARGS"]
    assert "--auth-local=scram-sha-256" in warehouse["environment"]["POSTGRES_INITDB_ARGS"]
    assert warehouse["environment"]["POSTGRES_USER"] != "conciliador", "the pipeline's role must not be the superuser"
    mounts = [v.split(":") for v in warehouse["volumes"] if v.startswith("./")]
    scripts = [ROOT / source for source, target, *_ in mounts if target.startswith("/docker-entrypoint-initdb.d/")]
    assert scripts and all(path.exists() for path in scripts)
    init = "\n".join(path.read_text() for path in scripts)
    assert re.search(r"create role conciliador login nosuperuser", init)
    assert "create database conciliador owner conciliador" in init
