"""Run the project's DAGs with a project-local Airflow (SQLite metadata, no services).

`airflow dags test` executes a real DAG run in-process: the same DAG file, task mapping,
retries and XComs as the scheduler would, without a webserver or executor to install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from ingestion.errors import UserError
from ingestion.settings import DAGS_DIR, PROJECT_ROOT, state_dir

DAG_ID = "conciliador_daily"


def airflow_env() -> dict[str, str]:
    home = state_dir() / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        "CONCILIADOR_HOME": str(state_dir()),
    }


def _airflow(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [str(Path(sys.executable).with_name("airflow")), *args]
    result = subprocess.run(cmd, env=airflow_env(), text=True, capture_output=True, cwd=PROJECT_ROOT, check=False)
    if check and result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-40:])
        raise UserError(f"`airflow {' '.join(args)}` failed (exit {result.returncode}):\n{tail}")
    return result


def ensure_metadata_db() -> None:
    marker = state_dir() / "airflow" / ".migrated"
    if marker.exists():
        return
    _airflow("db", "migrate")
    marker.touch()


def dag_test(logical_date: date, *, conf: dict | None = None) -> subprocess.CompletedProcess[str]:
    """Run one DAG run for the day `logical_date` (its data interval) and fail if any task failed."""
    ensure_metadata_db()
    args = ["dags", "test", DAG_ID, logical_date.isoformat()]
    if conf:
        args += ["--conf", json.dumps(conf)]
    result = _airflow(*args)
    output = result.stdout + result.stderr
    if "failed" in _final_state(output):
        raise UserError(f"DAG run for {logical_date} failed:\n" + "\n".join(output.strip().splitlines()[-40:]))
    return result


def _final_state(output: str) -> str:
    for line in reversed(output.splitlines()):
        if "state=" in line.lower() or "dagrun" in line.lower():
            return line.lower()
    return ""
