"""Run dbt against the warehouse the rest of the project uses.

dbt reads its connection from environment variables (see dbt/profiles.yml); this module is
the one place that derives them from `database_url()`, so the CLI, the DAG and the tests
cannot point dbt somewhere else than ingestion.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from ingestion.errors import UserError
from ingestion.settings import DBT_PROJECT_DIR, state_dir
from ingestion.warehouse import connection_parts


def dbt_env(url: str) -> dict[str, str]:
    parts = connection_parts(url)
    return {
        "CONCILIADOR_DB_HOST": str(parts["host"]),
        "CONCILIADOR_DB_PORT": str(parts["port"]),
        "CONCILIADOR_DB_USER": str(parts["user"]),
        "CONCILIADOR_DB_PASSWORD": str(parts["password"]),
        "CONCILIADOR_DB_NAME": str(parts["dbname"]),
    }


def run_dbt(
    url: str,
    command: Sequence[str] = ("build",),
    *,
    as_of: date | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    quiet: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `dbt <command>`; raise UserError with dbt's own summary when it fails."""
    variables: dict[str, Any] = dict(extra_vars or {})
    if as_of is not None:
        variables["as_of_date"] = as_of.isoformat()
    dbt_bin = Path(sys.executable).with_name("dbt")
    args = [str(dbt_bin), *command, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    if variables:
        args += ["--vars", json.dumps(variables)]
    target = state_dir() / "dbt-target"
    env = {
        **os.environ,
        **dbt_env(url),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(state_dir() / "dbt-logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # A partial build (`--select +one_mart`) runs the tests all of whose parents it builds,
        # never a test that also reads a model it does not build (dbt's default, "eager", would run
        # one platform's test that reads a shared staging model against a mart this build never
        # made). The daily DAG builds everything, so it runs every test either way.
        "DBT_INDIRECT_SELECTION": os.environ.get("DBT_INDIRECT_SELECTION", "cautious"),
    }
    result = subprocess.run(args, env=env, text=True, capture_output=True, check=False)
    if not quiet:
        sys.stdout.write(result.stdout)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.strip().splitlines()[-25:])
        raise UserError(f"dbt {' '.join(command)} failed (exit {result.returncode}):\n{tail}")
    return result
