"""
### Conciliador daily reconciliation

For its data interval (one São Paulo business day, plus `lookback_days` for late updates),
extracts every active integration (of any provider in `plugins/providers/registry.py`: what
the platforms say was sold or paid, what the bank says arrived) into `raw`, one mapped task per
integration, then runs `dbt build`, which rebuilds the marts as of the interval's end and runs
the data-quality tests.

One integration's failure does not hold the others back: `transform` runs once every
extraction has finished, failed or not (a failed sync lands nothing of its interval, and the
freshness mart says which integrations are stale), and `check_extractions` then fails the
run, naming each failed integration and what to do. Failures that waiting cannot heal
(credentials, an unlinked merchant or item, a missing key) fail their task at once, without
retries.

Backfills are runs over past intervals; reruns are idempotent.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, TriggerRule, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable


@dag(
    dag_id="conciliador_daily",
    # A data-interval timetable: each run covers one São Paulo business day [00:00, 24:00).
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="America/Sao_Paulo"),
    start_date=pendulum.datetime(2026, 1, 1, tz="America/Sao_Paulo"),
    catchup=False,
    max_active_runs=1,
    tags=["conciliador", "reconciliation"],
    doc_md=__doc__,
    default_args={
        "owner": "conciliador",
        "retries": 2,
        "retry_delay": timedelta(seconds=int(os.environ.get("CONCILIADOR_RETRY_DELAY_SECONDS", "300"))),
    },
    params={
        "lookback_days": Param(2, type="integer", minimum=0, maximum=366),
        "full_refresh": Param(False, type="boolean"),
    },
)
def conciliador_daily():
    @task
    def active_integrations() -> list[int]:
        from ingestion.pipeline import active_integration_ids

        return active_integration_ids()

    @task(max_active_tis_per_dagrun=2)
    def extract(
        integration_id: int, data_interval_start=None, data_interval_end=None, params=None, run_id=None
    ) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from ingestion.pipeline import PermanentSyncFailure
        from ingestion.pipeline import extract as run_extract

        try:
            return run_extract(
                integration_id,
                data_interval_start,
                data_interval_end,
                lookback_days=int(params["lookback_days"]),
                run_label=run_id,
            )
        except PermanentSyncFailure as exc:
            raise AirflowFailException(str(exc)) from exc

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def transform(data_interval_end=None, params=None) -> None:
        from ingestion.pipeline import as_of_date
        from ingestion.pipeline import transform as run_transform

        run_transform(as_of_date(data_interval_end), full_refresh=bool(params["full_refresh"]))

    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0)
    def check_extractions(integration_ids: list[int], run_id=None) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        from ingestion.pipeline import describe_failures, failed_syncs

        failures = failed_syncs(run_id, integration_ids)
        if failures:
            raise AirflowFailException(
                f"{len(failures)} of {len(integration_ids)} integrations failed; the others were "
                f"extracted and transformed:\n{describe_failures(failures)}"
            )

    integration_ids = active_integrations()
    extracted = extract.expand(integration_id=integration_ids)
    transformed = transform()
    extracted >> transformed >> check_extractions(integration_ids)


conciliador_daily()
