"""Run dbt and read what each node did from its run_results.json (the tests that prove data tests can fail)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from ingestion.dbt_runner import run_dbt
from ingestion.errors import UserError
from ingestion.settings import state_dir


def dbt_results(url: str, command: Sequence[str], *, as_of: date) -> dict[str, tuple[str, int | None]]:
    """`dbt <command>`, failing or not; node name → (status, failing rows) from run_results.json."""
    try:
        run_dbt(url, command, as_of=as_of, quiet=True)
    except UserError:
        pass
    results = json.loads((state_dir() / "dbt-target" / "run_results.json").read_text())
    return {r["unique_id"].split(".")[2]: (r["status"], r.get("failures")) for r in results["results"]}


def dbt_outcomes(url: str, command: Sequence[str], *, as_of: date) -> dict[str, str]:
    """Node name → status (pass, fail, error, success, skipped, ...)."""
    return {name: status for name, (status, _) in dbt_results(url, command, as_of=as_of).items()}
