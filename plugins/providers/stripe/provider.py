"""`StripeProvider`: one Stripe account's money over an interval, as `RawRecord`s.

One integration is one Stripe account, reached with its secret (or restricted) key. Over the
interval, by `created`: charges, refunds, disputes, payouts and balance transactions, each in its
raw table; then, for every automatic payout listed, the balance transactions it paid out, one
record per (payout, transaction) in `stripe_payout_transactions`, since a balance transaction does
not name its payout and this listing is the only link from a payment to the bank credit. Manual
payouts have no such listing (Stripe answers 400 to it) and land as payouts only.

`payout_documents` (the CNPJs whose bank account the account pays out to) are for dbt, which finds
the bank credits by them; Stripe's API does not expose them, so sync neither needs nor checks them.
Every record lands as the exact bytes Stripe sent (integer minor units untouched).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from plugins.providers.base import Interval, Provider, RawRecord
from plugins.providers.stripe import records
from plugins.providers.stripe.client import StripeClient
from plugins.providers.stripe.webhook import StripeWebhook


class StripeProvider(Provider):
    """Extracts the account's charges, refunds, disputes, payouts and balance, and what each payout paid."""

    name = "stripe"
    default_base_url = StripeClient.DEFAULT_BASE_URL
    credential_fields = ("secret_key",)
    secret_fields = ("secret_key",)
    external_id_fields = ("payout_documents",)
    raw_tables: ClassVar[Mapping[str, str]] = {
        records.CHARGES.table: records.CHARGES.key_column,
        records.REFUNDS.table: records.REFUNDS.key_column,
        records.DISPUTES.table: records.DISPUTES.key_column,
        records.PAYOUTS.table: records.PAYOUTS.key_column,
        records.BALANCE_TRANSACTIONS.table: records.BALANCE_TRANSACTIONS.key_column,
        records.PAYOUT_TRANSACTIONS_TABLE: records.PAYOUT_TRANSACTIONS_KEY,
    }
    webhook = StripeWebhook()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = StripeClient(
            self.credentials["secret_key"], base_url=self.base_url, options=self.transport_options
        )

    def close(self) -> None:
        self.client.close()

    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        for charge, raw in self.client.charges(interval):
            yield records.CHARGES.record(charge, raw)
        for refund, raw in self.client.refunds(interval):
            yield records.REFUNDS.record(refund, raw)
        for dispute, raw in self.client.disputes(interval):
            yield records.DISPUTES.record(dispute, raw)
        for transaction, raw in self.client.balance_transactions(interval):
            yield records.BALANCE_TRANSACTIONS.record(transaction, raw)
        for payout, raw in self.client.payouts(interval):
            yield records.PAYOUTS.record(payout, raw)
            if payout.automatic:
                for transaction, raw_transaction in self.client.payout_transactions(payout):
                    yield records.payout_transaction_record(payout.id, transaction, raw_transaction)
