"""The DAG folder parses in Airflow and every DAG follows the house rules."""

from __future__ import annotations

import subprocess
import sys

from ingestion.airflow_runner import airflow_env
from ingestion.settings import DAGS_DIR, PROJECT_ROOT

CHECK = f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(DAGS_DIR)!r})
print(json.dumps({{
    "errors": {{k: str(v)[:500] for k, v in bag.import_errors.items()}},
    "dags": {{dag_id: {{"tags": sorted(dag.tags), "retries": {{t.task_id: t.retries for t in dag.tasks}},
                        "tasks": sorted(t.task_id for t in dag.tasks)}} for dag_id, dag in bag.dags.items()}},
}}))
"""


def test_dags_parse_without_errors_and_follow_house_rules() -> None:
    import json

    result = subprocess.run(
        [sys.executable, "-c", CHECK], env=airflow_env(), capture_output=True, text=True, cwd=PROJECT_ROOT, check=True
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert "conciliador_daily" in report["dags"]
    for dag_id, dag in report["dags"].items():
        assert dag["tags"], f"{dag_id} has no tags"
        # Tasks that talk to providers or the warehouse retry; a task that only reports on the
        # run (check_extractions) would report the same thing again.
        doing = {task: n for task, n in dag["retries"].items() if not task.startswith("check_")}
        assert min(doing.values()) >= 2, f"{dag_id} has a task with fewer than 2 retries: {doing}"
    assert report["dags"]["conciliador_daily"]["tasks"] == [
        "active_integrations",
        "check_extractions",
        "extract",
        "transform",
    ]
