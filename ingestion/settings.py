"""Where things live and which database we talk to.

One place decides the project-local state folder and the warehouse URL so that the CLI,
the DAG tasks, dbt's profile and the tests cannot disagree about them.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
DAGS_DIR = PROJECT_ROOT / "dags"


def state_dir() -> Path:
    """Project-local folder for the embedded PostgreSQL, Airflow home and the dev key file.

    Overridable so tests and benchmarks can run beside a developer's own state without
    touching it.
    """
    path = Path(os.environ.get("CONCILIADOR_HOME", PROJECT_ROOT / ".conciliador"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def external_database_url() -> str | None:
    """The user's own PostgreSQL, when they chose one; None means the embedded default."""
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or None
