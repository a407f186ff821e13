"""`KiwifyProvider`: one producer account's sales and payouts, extracted over an interval into `RawRecord`s.

An integration is one Kiwify account (`account_id`, sent as `x-kiwify-account-id`) read with an API
key (`client_id`, `client_secret`). Before any call, its payout documents (the producer's CNPJ or
CPF, which staging matches Kiwify's deposits against) must be valid documents (NotLinkedError).

Then, per sync:

1. every sale created in the interval (`GET /v1/sales`, full details), landed byte for byte in
   `kiwify_sales`, keyed by its `status`;
2. the sales ingestion hands over as `known_ids` (`Provider.known_ids_from`) that step 1 did not
   already list, each re-read once with `GET /v1/sales/{id}` into the same table. Ingestion picks
   every sale of the integration first seen in the interval (a webhook event names its order) and
   every sale whose latest landed status is not final. A Kiwify sale changes after its creation (a
   boleto or PIX paid days later, a refund request, a refund, a chargeback), so a sale created
   before the interval is re-confirmed by id until it reaches a final status;
3. every payout created in the interval (`GET /v1/payouts`, all pages: no date filter), landed in
   `kiwify_payouts`, keyed by its `status`.

Final statuses: `refunded`, `chargedback`, `refused` (no way back), and `paid`. `paid` is final
although a paid sale can still be refunded (the guarantee window) or charged back (months later):
if it were not, every paid sale would be re-read by id on every sync, forever, a set that only
grows (one request per sale per day against a limit of about 100 requests a minute). What changes a
paid sale is announced by webhook instead (`order_refunded`, `chargeback`: they land in
`kiwify_webhook_events` with the order's new status and `refunded_at`), and the daily listing
re-lands it whenever the sync's look-back still covers its creation date. `approved`,
`authorized`, `processing`, `pending`, `waiting_payment`, `refund_requested`, `pending_refund` and any
status Kiwify adds are re-read until they end.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from plugins.providers.base import Interval, KnownIds, Provider, RawRecord
from plugins.providers.kiwify.client import KiwifyClient
from plugins.providers.kiwify.records import check_payout_documents
from plugins.providers.kiwify.webhook import EVENTS_TABLE, KiwifyWebhook
from plugins.providers.transport import prefetched

SALES_TABLE = "kiwify_sales"
PAYOUTS_TABLE = "kiwify_payouts"
FINAL_STATUSES = frozenset({"paid", "refunded", "chargedback", "refused"})


class KiwifyProvider(Provider):
    """Extracts the sales created in the interval, re-confirms unfinished ones by id, and the payouts."""

    name = "kiwify"
    default_base_url = KiwifyClient.DEFAULT_BASE_URL
    credential_fields = ("client_id", "client_secret", "account_id")
    secret_fields = ("client_secret",)
    external_id_fields = ("payout_documents",)
    raw_tables: ClassVar[Mapping[str, str]] = {SALES_TABLE: "status", PAYOUTS_TABLE: "status"}
    webhook = KiwifyWebhook()
    known_ids_from = KnownIds(
        seen_in={SALES_TABLE: "external_id", EVENTS_TABLE: "order_id"},
        status_in=(SALES_TABLE, "status"),
        final_statuses=FINAL_STATUSES,
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = KiwifyClient(
            self.credentials["client_id"],
            self.credentials["client_secret"],
            self.credentials["account_id"],
            base_url=self.base_url,
            options=self.transport_options,
        )

    def close(self) -> None:
        self.client.close()

    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        check_payout_documents(self.external_ids.get("payout_documents", []))
        listed: set[str] = set()
        for page in prefetched(self.client.sale_pages(interval), depth=8):
            for sale_id, status, raw in page:
                listed.add(sale_id)
                yield RawRecord(SALES_TABLE, sale_id, raw, {"status": status})
        for sale_id in sorted(set(self.known_ids) - listed):
            body, sale = self.client.sale(sale_id)
            yield RawRecord(SALES_TABLE, sale.id, body, {"status": sale.status})
        for page in self.client.payout_pages(interval):
            for payout_id, status, raw in page:
                yield RawRecord(PAYOUTS_TABLE, payout_id, raw, {"status": status})
