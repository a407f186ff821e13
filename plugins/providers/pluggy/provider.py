"""`PluggyProvider`: one integration's items, extracted over an interval into `RawRecord`s.

Per item: the item itself is checked first (so a deleted item fails naming it, and an item whose
connection to the bank is broken fails before anything of it lands), then every account lands
keyed by item, and each account's transactions in the interval keyed by account.

Item statuses (reference §1.6 "Items": `status` values, and Pluggy's item-lifecycle page): `LOGIN_ERROR` (the bank refused the
stored credentials; Pluggy stops syncing it), `WAITING_USER_INPUT` / `WAITING_USER_ACTION` (an MFA
answer or a confirmation is pending) need the account holder, so the sync fails at once without
retries; `OUTDATED` (Pluggy's last refresh failed, a retryable error on its side) means the
transactions may be behind, so the sync fails retryably and the freshness mart shows the bank
data as stale instead of calling it current. `UPDATED`, `UPDATING` and `MERGING` serve the data of
the last good refresh and are extracted.
Transactions are the bulk path: their exact JSON bytes pass through untouched, pages prefetched
while the raw writer loads the previous ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from plugins.providers.base import Interval, Provider, RawRecord
from plugins.providers.errors import NeedsUserActionError, SourceOutdatedError
from plugins.providers.pluggy.client import PluggyClient
from plugins.providers.pluggy.webhook import PluggyWebhook
from plugins.providers.transport import prefetched


class PluggyProvider(Provider):
    """Extracts every account of the integration's items and the transactions in the interval."""

    name = "pluggy"
    default_base_url = PluggyClient.DEFAULT_BASE_URL
    credential_fields = ("client_id", "client_secret")
    secret_fields = ("client_secret",)
    external_id_fields = ("item_ids",)
    raw_tables: ClassVar[Mapping[str, str]] = {"pluggy_accounts": "item_id", "pluggy_transactions": "account_id"}
    webhook = PluggyWebhook()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = PluggyClient(
            self.credentials["client_id"],
            self.credentials["client_secret"],
            base_url=self.base_url,
            options=self.transport_options,
        )

    def close(self) -> None:
        self.client.close()

    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        for item_id in self.external_ids.get("item_ids", []):
            check_item_status(self.client.item(item_id))  # NotLinkedError, naming the item, when it is gone
            for account in self.client.accounts(item_id):
                yield RawRecord("pluggy_accounts", str(account["id"]), account, {"item_id": item_id})
                account_id = str(account["id"])
                keys = {"account_id": account_id}
                pages = self.client.transaction_pages(account_id, interval.first_date, interval.last_date)
                for page in prefetched(pages, depth=64):
                    for transaction_id, raw in page:
                        yield RawRecord("pluggy_transactions", transaction_id, raw, keys)


NEEDS_USER = frozenset({"LOGIN_ERROR", "WAITING_USER_INPUT", "WAITING_USER_ACTION"})
OUTDATED = "OUTDATED"


def check_item_status(item: Mapping[str, Any]) -> None:
    """Refuse an item whose data cannot be trusted as current (see the module docstring)."""
    status = str(item.get("status"))
    error = item.get("error") or {}
    detail = f" ({error.get('code')}: {error.get('message')})" if error.get("code") else ""
    if status in NEEDS_USER:
        raise NeedsUserActionError(f"pluggy: item {item.get('id')} is {status}{detail}; its holder must reconnect it")
    if status == OUTDATED:
        raise SourceOutdatedError(
            f"pluggy: item {item.get('id')} is OUTDATED{detail}: Pluggy's last refresh from the bank failed"
        )
