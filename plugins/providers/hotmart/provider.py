"""`HotmartProvider`: one producer account's sales, with their commissions and price details.

An integration is one Hotmart account reached with one API credential (client id, client secret
and the "Basic" string Hotmart issues with them); its `payout_documents` are the producer's
CNPJ (or CPF) whose bank account receives Hotmart's deposits, checked to be valid documents
before anything is fetched (NotLinkedError).

For an interval, the sales ordered in it: Hotmart's listings return only APPROVED and COMPLETE
sales unless filtered by `transaction` or `transaction_status`, and `transaction_status` takes
one status (a list is not documented), so the sync makes one pass per status of the REST enum
(`shapes.PURCHASE_STATUSES`, seventeen) over each of `/sales/history`, `/sales/commissions` and
`/sales/price/details`, with the interval as `start_date`/`end_date` (epoch ms, the last
millisecond before the interval's end). Each pass pages to its end signal and must add up to
its stated total (client.py). Then:

- a sale listed under two statuses changed while the passes ran: it is read again by
  `transaction=` and lands as it is now; commissions or price details of a sale the history
  passes did not list are completed with that sale, read by `transaction=`;
- a sale whose money was captured (`shapes.PAID_STATUSES`) must have commissions and price details;
  those its status pass did not list are read by `transaction=`, and a paid sale Hotmart gives
  none for is IncompleteExtractionError. A sale not (yet) paid may have none.

Sales change after they are ordered: approved after a boleto or PIX clears, refunded within the
guarantee, charged back, COMPLETE when the guarantee ends. Two mechanisms bring them back:

- **warranty passes**: one pass per status a paid sale moves into (`LATER_STATUSES`: COMPLETE,
  REFUNDED, PARTIALLY_REFUNDED, PROTESTED, CHARGEBACK) over each listing, for the sales ordered in
  the `WARRANTY_LOOKBACK` (37 days: Hotmart's longest guarantee, 30 days, plus a week to pay) before
  the interval. A sale refunded, disputed, charged back or completed while its guarantee can still
  change it is listed again by the pass of its new status, whatever day that happens;
- **known ids** (`known_ids_from`): ingestion hands the sync every transaction a webhook named in
  the interval and every sale whose last landed status is not final (`FINAL_STATUSES`: APPROVED is
  final here, the warranty passes cover it), and the sync re-reads each one not already listed, by
  `transaction=` (which lifts the default status filter): its history item, and, when it is paid,
  its commissions and price details. So pending sales are re-read until they are paid or lapse, a
  dispute until it ends, and a sale notified after its guarantee (a chargeback months later) the
  day the notification arrives. A transaction Hotmart no longer serves to these credentials is
  NotLinkedError.

Cost: the design it replaces re-read every APPROVED sale by transaction (3 calls) every day until
COMPLETE: ~90,000 calls a day for 1,000 sales a day and a 30-day guarantee, against a limit of 500
a minute. The warranty passes cost a page per 50 sales of each later status in the look-back
(about 650 to 2,000 calls a day at that volume, COMPLETE being most of it) plus the interval's 51
first pages. Measured once on the served sandbox (one account, 32 sales a day, a 30-day
guarantee, the sync of the day after 39 synced days): 2,609 calls before, 149 after, the same rows
landed; tests/providers/hotmart/test_hotmart_served.py holds that no APPROVED sale is re-read
unless a webhook names it. A
sale whose guarantee ended beyond the look-back without a notification keeps APPROVED in raw where
Hotmart says COMPLETE: both are the canonical `paid` (docs/payment-reconciliation-rules.md), so
nothing the warehouse reconciles changes.

What lands: `hotmart_sales` (external id = transaction, key = `status`, the status the sale
had when read, which is what `known_ids_from` reads), `hotmart_commissions` and
`hotmart_price_details` (external id = transaction, key = `product_id`); each item's exact JSON
bytes. Webhook notifications land in `hotmart_webhook_events` (webhook.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any, ClassVar

from plugins.providers.base import Interval, KnownIds, Provider, RawRecord
from plugins.providers.errors import IncompleteExtractionError, NotLinkedError
from plugins.providers.hotmart import shapes
from plugins.providers.hotmart.client import COMMISSIONS, PRICE_DETAILS, SALES, HotmartClient, Listed
from plugins.providers.hotmart.records import check_payout_documents, window_millis
from plugins.providers.hotmart.webhook import EVENTS_TABLE, HotmartWebhook

SALES_TABLE = "hotmart_sales"
COMMISSIONS_TABLE = "hotmart_commissions"
PRICE_DETAILS_TABLE = "hotmart_price_details"

# How far before the interval the warranty passes reach, by order date: the longest guarantee
# Hotmart lets a producer choose (7, 15, 21 or 30 days from the purchase: help.hotmart.com, "How to
# adjust the guarantee period", OFFICIAL) plus a week for a boleto or PIX ordered then to be paid
# (Hotmart's boleto term is not documented where we could read: UNCONFIRMED, hence the margin).
WARRANTY_LOOKBACK = timedelta(days=37)
# The statuses a paid sale moves into after its order day: the guarantee ends (COMPLETE), the buyer
# is refunded (REFUNDED, PARTIALLY_REFUNDED), disputes (PROTESTED) or charges back (CHARGEBACK).
LATER_STATUSES: tuple[str, ...] = ("CHARGEBACK", "COMPLETE", "PARTIALLY_REFUNDED", "PROTESTED", "REFUNDED")
# Statuses not re-read by transaction: the ones a sale no longer leaves by itself (refunded, charged
# back, cancelled, expired, refused for lack of funds, COMPLETE), and APPROVED, whose later statuses
# the warranty passes list for as long as the guarantee can change them; after it, only a chargeback
# (or a refund the producer grants) can, and Hotmart notifies it (PURCHASE_CHARGEBACK,
# PURCHASE_REFUNDED, PURCHASE_PROTEST), which re-opens the sale for the day it arrives
# (`ingestion.sync.known_ids`: any sighting in the window). BLOCKED ("under review"), PROTESTED (a
# dispute), PARTIALLY_REFUNDED and the pending statuses are re-read by every sync until they end.
FINAL_STATUSES = frozenset({"APPROVED", "REFUNDED", "CHARGEBACK", "CANCELLED", "EXPIRED", "NO_FUNDS", "COMPLETE"})


class HotmartProvider(Provider):
    """Extracts the sales ordered in the interval, and re-reads those that may still change."""

    name = "hotmart"
    default_base_url = HotmartClient.DEFAULT_BASE_URL
    credential_fields = ("client_id", "client_secret", "basic")
    secret_fields = ("client_secret", "basic")
    external_id_fields = ("payout_documents",)
    raw_tables: ClassVar[Mapping[str, str]] = {
        SALES_TABLE: "status",
        COMMISSIONS_TABLE: "product_id",
        PRICE_DETAILS_TABLE: "product_id",
    }
    webhook = HotmartWebhook()
    known_ids_from = KnownIds(
        seen_in={EVENTS_TABLE: "transaction", SALES_TABLE: "external_id"},
        status_in=(SALES_TABLE, "status"),
        final_statuses=FINAL_STATUSES,
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = HotmartClient(
            self.credentials["client_id"],
            self.credentials["client_secret"],
            self.credentials["basic"],
            base_url=self.base_url,
            options=self.transport_options,
        )

    def close(self) -> None:
        self.client.close()

    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        check_payout_documents(self.external_ids.get("payout_documents", []))
        sales, commissions, prices, moved = self._listed(interval)
        self._settle_moved(sales, commissions, prices, moved)
        reread = self._reread_known(sales)
        self._complete_paid(sales, commissions, prices, reread)
        for transaction in sorted(sales):
            sale = sales[transaction]
            yield RawRecord(SALES_TABLE, transaction, sale.raw, {"status": sale.item.purchase.status})
        for table, found in ((COMMISSIONS_TABLE, commissions), (PRICE_DETAILS_TABLE, prices)):
            for transaction in sorted(found):
                listed = found[transaction]
                yield RawRecord(table, transaction, listed.raw, {"product_id": str(listed.item.product.id)})

    # ----------------------------------------------------------------------------- steps

    def _listed(self, interval: Interval) -> tuple[dict[str, Listed], dict[str, Listed], dict[str, Listed], set[str]]:
        """One pass per status over each listing for the interval, and one per later status
        (`LATER_STATUSES`) over the `WARRANTY_LOOKBACK` before it, by transaction; and the
        transactions listed under two statuses (they moved while the passes ran)."""
        sales: dict[str, Listed] = {}
        commissions: dict[str, Listed] = {}
        prices: dict[str, Listed] = {}
        moved: set[str] = set()
        passes = (
            (window_millis(interval.start, interval.end), shapes.PURCHASE_STATUSES),
            (window_millis(interval.start - WARRANTY_LOOKBACK, interval.start), LATER_STATUSES),
        )
        for window, statuses in passes:
            if window is None:
                continue
            for status in statuses:
                for endpoint, into in ((SALES, sales), (COMMISSIONS, commissions), (PRICE_DETAILS, prices)):
                    for page in self.client.window(endpoint, window, status):
                        for listed in page:
                            if listed.transaction in into:
                                moved.add(listed.transaction)
                            into[listed.transaction] = listed
        return sales, commissions, prices, moved

    def _settle_moved(
        self,
        sales: dict[str, Listed],
        commissions: dict[str, Listed],
        prices: dict[str, Listed],
        moved: set[str],
    ) -> None:
        """Sales seen twice, or only through their commissions or price details, read as they are now."""
        orphans = (commissions.keys() | prices.keys()) - sales.keys()
        for transaction in sorted(moved | orphans):
            sale = self.client.by_transaction(SALES, transaction)
            if sale is None:
                raise IncompleteExtractionError(
                    f"hotmart: transaction {transaction} was listed in this interval's passes but its sale is not "
                    "in the history when asked for by transaction: the data moved while we listed"
                )
            sales[transaction] = sale
            for into, endpoint in ((commissions, COMMISSIONS), (prices, PRICE_DETAILS)):
                if transaction in moved and transaction in into:
                    fresh = self.client.by_transaction(endpoint, transaction)
                    if fresh is not None:
                        into[transaction] = fresh

    def _reread_known(self, sales: dict[str, Listed]) -> set[str]:
        """Every known transaction not listed in this interval, read by `transaction=`."""
        reread: set[str] = set()
        for transaction in sorted(set(self.known_ids) - sales.keys()):
            sale = self.client.by_transaction(SALES, transaction)
            if sale is None:
                raise NotLinkedError(
                    f"hotmart: transaction {transaction}, known from an earlier sync or a webhook of this account, is "
                    "not in its sales history when asked for by transaction: the credentials belong to another "
                    "Hotmart account than the one whose webhooks named it, or Hotmart no longer serves the sale"
                )
            sales[transaction] = sale
            reread.add(transaction)
        return reread

    def _complete_paid(
        self,
        sales: dict[str, Listed],
        commissions: dict[str, Listed],
        prices: dict[str, Listed],
        reread: set[str],
    ) -> None:
        """Commissions and price details of every paid sale: what its status pass did not list, and
        every re-read one's (its money may have changed with its status), read by `transaction=`."""
        for transaction in sorted(sales):
            status = sales[transaction].item.purchase.status
            if status not in shapes.PAID_STATUSES:
                continue
            for into, endpoint in ((commissions, COMMISSIONS), (prices, PRICE_DETAILS)):
                if transaction in into and transaction not in reread:
                    continue
                found = self.client.by_transaction(endpoint, transaction)
                if found is None:
                    raise IncompleteExtractionError(
                        f"hotmart: the {status} sale {transaction} has no {endpoint.what} when asked for by "
                        "transaction; a paid sale always has them"
                    )
                into[transaction] = found
