"""`PushinPayProvider`: one integration's PIX charges, re-confirmed by id into `RawRecord`s.

PushinPay has no list endpoint and no date filter: a charge becomes known when its webhook
arrives (`webhook.py` lands it), and the sync re-reads known charges one by one with `GET
/api/transactions/{id}`. Which ids is ingestion's choice (`known_ids_from`, ingestion/sync.py):
every id of the integration seen in the sync's interval (a notification delivered then, a row
loaded then), and every id whose latest status
is not final (`created`, or never confirmed). The interval reaches PushinPay only through that
choice, so `sync` fetches exactly the ids it is given, each once (PushinPay is reported to allow
about one query per minute per transaction), and lands each answer byte for byte in
`pushinpay_transactions`, keyed by its status.

Before any call, the payout documents (CPF/CNPJ of the account PushinPay pays out to, which
staging matches bank credits against) must be valid documents (NotLinkedError otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from plugins.providers.base import Interval, KnownIds, Provider, RawRecord
from plugins.providers.pushinpay.client import PushinPayClient
from plugins.providers.pushinpay.records import check_payout_documents, normal_id
from plugins.providers.pushinpay.webhook import EVENTS_TABLE, TRANSACTIONS_TABLE, PushinPayWebhook

# Statuses a charge no longer leaves on its own: paid (a refund comes by webhook), canceled
# (official), expired, refunded (third-party); `cancelled` as a guide spells it. Any other status,
# `created` (official) and `pending` (third-party) included, is re-read by every sync until it ends.
FINAL_STATUSES = frozenset({"paid", "canceled", "cancelled", "expired", "refunded"})


class PushinPayProvider(Provider):
    """Re-reads, by id, the PIX charges its webhooks made known."""

    name = "pushinpay"
    default_base_url = PushinPayClient.DEFAULT_BASE_URL
    credential_fields = ("token",)
    secret_fields = ("token",)
    external_id_fields = ("payout_documents",)
    raw_tables: ClassVar[Mapping[str, str]] = {TRANSACTIONS_TABLE: "status"}
    webhook = PushinPayWebhook()
    known_ids_from = KnownIds(
        seen_in={EVENTS_TABLE: "transaction_id", TRANSACTIONS_TABLE: "external_id"},
        status_in=(TRANSACTIONS_TABLE, "status"),
        final_statuses=FINAL_STATUSES,
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = PushinPayClient(self.credentials["token"], base_url=self.base_url, options=self.transport_options)

    def close(self) -> None:
        self.client.close()

    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        check_payout_documents(self.external_ids.get("payout_documents", []))
        for transaction_id in sorted({normal_id(i) for i in self.known_ids}):
            body, transaction = self.client.transaction(transaction_id)
            yield RawRecord(TRANSACTIONS_TABLE, transaction_id, body, {"status": transaction.status})
