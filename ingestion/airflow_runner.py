"""Run the project's DAGs with a project-local Airflow (SQLite metadata, no services).

`airflow dags test` executes a real DAG run in-process: the same DAG file, task mapping,
retries and XComs as the scheduler would, without a webserver or executor to install.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from ingestion.errors import UserError
from ingestion.settings import DAGS_DIR, PROJECT_ROOT, state_dir
from plugins.providers.base import BUSINESS_TZ

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
        # Local runs are attended: retry quickly instead of the scheduler's five minutes.
        "CONCILIADOR_RETRY_DELAY_SECONDS": os.environ.get("CONCILIADOR_RETRY_DELAY_SECONDS", "5"),
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


def dag_test(business_day: date, *, conf: dict | None = None) -> subprocess.CompletedProcess[str]:
    """Run the DAG once for one São Paulo business day and fail if any task failed.

    A manual run at instant X covers the timetable interval that ends at X, so the run for
    day D is the one triggered at D+1 00:00 in São Paulo: its data interval is exactly D.
    """
    ensure_metadata_db()
    run_at = datetime.combine(business_day + timedelta(days=1), time.min, BUSINESS_TZ)
    args = ["dags", "test", DAG_ID, run_at.isoformat()]
    if conf:
        args += ["--conf", json.dumps(conf)]
    # The exit code alone cannot tell a partial run from a broken one; the run's state can.
    result = _airflow(*args, check=False)
    run_id, state, failed_tasks = _run_outcome(run_at)
    if state != "success":
        failures = _failed_integrations(run_id) if run_id else []
        if failures and "transform" not in failed_tasks:
            from ingestion.pipeline import describe_failures

            raise PartialRunError(
                f"The DAG run for {business_day} built the marts, but {len(failures)} integration(s) failed "
                f"and their data is stale:\n{describe_failures(failures)}"
            )
        output = (result.stdout + result.stderr).strip().splitlines()
        raise UserError(
            f"The DAG run for {business_day} ended {state or 'without a state'}"
            f"{' (failed: ' + ', '.join(failed_tasks) + ')' if failed_tasks else ''}; last log lines:\n"
            + "\n".join(output[-40:])
        )
    return result


class PartialRunError(UserError):
    """The run extracted and transformed what it could; some integrations failed (named inside)."""


def _failed_integrations(run_id: str) -> list[dict]:
    import psycopg

    from ingestion import integrations
    from ingestion.pipeline import failed_syncs
    from ingestion.warehouse import database_url

    with psycopg.connect(database_url()) as conn:
        ids = [i.integration_id for i in integrations.list_all(conn, active_only=True)]
    return failed_syncs(run_id, ids)


def _run_outcome(run_at: datetime) -> tuple[str | None, str | None, list[str]]:
    """Read the run's final state from the (project-local SQLite) metadata database."""
    logical = run_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    with sqlite3.connect(state_dir() / "airflow" / "airflow.db") as db:
        row = db.execute(
            "select run_id, state from dag_run where dag_id = ? and logical_date like ? order by id desc limit 1",
            (DAG_ID, logical + "%"),
        ).fetchone()
        if row is None:
            return None, None, []
        failed = [
            task
            for (task,) in db.execute(
                "select distinct task_id from task_instance where dag_id = ? and run_id = ? "
                "and state in ('failed', 'upstream_failed')",
                (DAG_ID, row[0]),
            )
        ]
    return row[0], row[1], failed
