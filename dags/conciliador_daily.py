"""
### Conciliador daily reconciliation

For its data interval (one São Paulo business day, plus `lookback_days` for late updates),
extracts every active integration (Pluggy bank transactions, iFood sales and financial
events) into `raw`, one mapped task per integration, then runs `dbt build`, which rebuilds
the marts as of the interval's end and runs the data-quality tests.

Backfills are runs over past intervals; reruns are idempotent.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task
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
        from ingestion.pipeline import extract as run_extract

        return run_extract(
            integration_id,
            data_interval_start,
            data_interval_end,
            lookback_days=int(params["lookback_days"]),
            run_label=run_id,
        )

    @task(trigger_rule="none_failed")
    def transform(extracted: list[dict], data_interval_end=None, params=None) -> None:
        from ingestion.pipeline import as_of_date
        from ingestion.pipeline import transform as run_transform

        run_transform(as_of_date(data_interval_end), full_refresh=bool(params["full_refresh"]))

    transform(extract.expand(integration_id=active_integrations()))


conciliador_daily()
