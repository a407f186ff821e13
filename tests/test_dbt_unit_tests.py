"""dbt's own unit tests (`unit_tests:` in the model yml files) run here, on the real adapter.

The daily DAG's build leaves them out: they check the models' logic on fixed inputs, not the
day's data, so they belong to CI rather than to every production run.
"""

from __future__ import annotations

import re

from ingestion.dbt_runner import run_dbt


def test_every_dbt_unit_test_passes(clean_warehouse: str) -> None:
    # Unit tests read their inputs' column types from the database: create every relation,
    # empty (`--empty`), first. The gateway models' raw sources exist in the test warehouse
    # (conftest.create_gateway_raw_tables) until their providers register them.
    run_dbt(clean_warehouse, ("build", "--empty", "--exclude-resource-type", "test", "unit_test"), quiet=True)
    result = run_dbt(clean_warehouse, ("test", "--select", "test_type:unit"), quiet=True)
    done = re.search(r"PASS=(\d+) WARN=(\d+) ERROR=(\d+)", result.stdout)
    assert done, result.stdout[-2000:]
    passed, warned, errors = map(int, done.groups())
    assert errors == 0 and warned == 0
    # The boundary suites of issues 2 and 3 and the gateway payment suites (matching steps,
    # the 15 status rules, splits, fee audit, one mapping per gateway, 13 of them; the sales
    # platforms Hotmart and Kiwify: staging money and dates, mapping and payouts, 8 more): a vanished
    # yml entry must not pass silently.
    assert passed >= 32, result.stdout[-2000:]
