"""`IfoodProvider`: one integration's merchants, extracted over an interval into `RawRecord`s.

Per merchant, in order: sales, financial events, settlements, anticipations and the
reconciliation file of every month the interval touches. The provider decides only what is
fetched and which raw table each object goes to, keyed by merchant; fetching is the client's,
parsing and ids are `records.py`'s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, ClassVar

from plugins.providers.base import Interval, Provider, RawRecord
from plugins.providers.ifood.client import IfoodClient, ReconciliationReportError
from plugins.providers.ifood.records import (
    anticipation_id,
    financial_event_id,
    reconciliation_line_ids,
    settlement_items,
)


class IfoodProvider(Provider):
    """Extracts every merchant of the integration: its sales, ledger, payouts and reconciliation files."""

    name = "ifood"
    default_base_url = IfoodClient.DEFAULT_BASE_URL
    credential_fields = ("client_id", "client_secret")
    secret_fields = ("client_secret",)
    external_id_fields = ("merchant_ids",)
    raw_tables: ClassVar[Mapping[str, str]] = {
        "ifood_sales": "merchant_id",
        "ifood_financial_events": "merchant_id",
        "ifood_settlements": "merchant_id",
        "ifood_anticipations": "merchant_id",
        "ifood_reconciliation_lines": "merchant_id",
    }
    webhook = None  # the Financial module sends no webhooks (see the package docstring)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = IfoodClient(
            self.credentials["client_id"],
            self.credentials["client_secret"],
            base_url=self.base_url,
            options=self.transport_options,
        )

    def close(self) -> None:
        self.client.close()

    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        for merchant_id in self.external_ids.get("merchant_ids", []):
            keys = {"merchant_id": merchant_id}
            for sale in self.client.sales(merchant_id, interval.first_date, interval.last_date):
                yield RawRecord("ifood_sales", str(sale["id"]), sale, keys)
            for event in self.client.financial_events(merchant_id, interval.first_date, interval.last_date):
                yield RawRecord("ifood_financial_events", financial_event_id(merchant_id, event), event, keys)
            for envelope in self.client.settlements(merchant_id, interval.first_date, interval.last_date):
                for item in settlement_items(envelope):
                    yield RawRecord("ifood_settlements", str(item["id"]), item, keys)
            for envelope in self.client.anticipations(merchant_id, interval.first_date, interval.last_date):
                for item in settlement_items(envelope):
                    yield RawRecord("ifood_anticipations", anticipation_id(merchant_id, item), item, keys)
            for competence in competences(interval.first_date, interval.last_date):
                try:
                    lines = self.client.reconciliation_report(merchant_id, competence)
                except ReconciliationReportError as exc:
                    if "no financial entries" in exc.report_message.lower():
                        continue  # a month without entries has no file; nothing to extract
                    raise
                for line_id, line in zip(reconciliation_line_ids(merchant_id, lines), lines, strict=True):
                    yield RawRecord("ifood_reconciliation_lines", line_id, line, keys)


def competences(first: date, last: date) -> list[str]:
    """Every month (YYYY-MM) that [first, last] touches."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
