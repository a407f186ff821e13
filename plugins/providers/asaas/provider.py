"""`AsaasProvider`: one Asaas account, extracted over an interval's business dates into `RawRecord`s.

In order, over the interval's São Paulo dates (first_date..last_date, both inclusive; the
interval comes already widened by ingestion's look-back, nothing is added here):

1. the account behind the API key must be one of the integration's `payout_documents` (its own
   CPF/CNPJ, `GET /v3/myAccount/commercialInfo/`), else NotLinkedError naming them: a key pasted
   for the wrong company fails before anything of it lands;
2. every payment created on those dates (`GET /v3/payments?dateCreated[ge]&dateCreated[le]`);
3. the statement of those dates (`GET /v3/financialTransactions?startDate&finishDate`): the money
   that moved, each line naming the payment or transfer it belongs to;
4. every transfer created on those dates (`GET /v3/transfers?dateCreated[ge]&dateCreated[le]`);
5. the payments and transfers the statement names that the listings did not give (created before
   the interval, they moved money in it: credited, refunded, charged back, paid out), by id.
   Lines that carry a `splitId` are a split's leg: their `paymentId` may be another account's
   payment, which this key cannot read, so they name nothing to fetch (the issuer's own lines for
   the same payment name it anyway).

Raw tables and their key columns: `asaas_payments` (external_reference), `asaas_transfers`
(status), `asaas_financial_transactions` (payment_id); webhooks add `asaas_webhook_events`
(payment_id) and land their payment / transfer objects in the first two (see `webhook.py`).
Records land as the exact bytes Asaas sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from plugins.providers.asaas.client import AsaasClient, digits
from plugins.providers.asaas.webhook import PAYMENTS_TABLE, TRANSFERS_TABLE, AsaasWebhook, payment_keys, transfer_keys
from plugins.providers.base import Interval, Provider, RawRecord
from plugins.providers.errors import NotLinkedError

STATEMENT_TABLE = "asaas_financial_transactions"


class AsaasProvider(Provider):
    """Extracts the account's payments, statement and transfers of the interval's dates."""

    name = "asaas"
    default_base_url = AsaasClient.DEFAULT_BASE_URL
    credential_fields = ("api_key",)
    secret_fields = ("api_key",)
    # The CPF/CNPJ(s) whose bank accounts Asaas pays out to; the account's own must be among them.
    external_id_fields = ("payout_documents",)
    raw_tables: ClassVar[Mapping[str, str]] = {
        PAYMENTS_TABLE: "external_reference",
        TRANSFERS_TABLE: "status",
        STATEMENT_TABLE: "payment_id",
    }
    webhook = AsaasWebhook()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = AsaasClient(self.credentials["api_key"], base_url=self.base_url, options=self.transport_options)

    def close(self) -> None:
        self.client.close()

    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        self.check_account()
        first, last = interval.first_date, interval.last_date

        payments: set[str] = set()
        for payment, raw in self.client.payments(first, last):
            payments.add(payment.id)
            yield RawRecord(PAYMENTS_TABLE, payment.id, raw, payment_keys(payment))

        named_payments: dict[str, None] = {}  # ordered, unique
        named_transfers: dict[str, None] = {}
        for line, raw in self.client.financial_transactions(first, last):
            yield RawRecord(STATEMENT_TABLE, line.id, raw, {"payment_id": line.paymentId or None})
            if line.paymentId and not line.splitId:
                named_payments[line.paymentId] = None
            if line.transferId:
                named_transfers[line.transferId] = None

        transfers: set[str] = set()
        for transfer, raw in self.client.transfers(first, last):
            transfers.add(transfer.id)
            yield RawRecord(TRANSFERS_TABLE, transfer.id, raw, transfer_keys(transfer))

        for payment_id in [p for p in named_payments if p not in payments]:
            payment, body = self.client.payment(payment_id)
            yield RawRecord(PAYMENTS_TABLE, payment.id, body, payment_keys(payment))
        for transfer_id in [t for t in named_transfers if t not in transfers]:
            transfer, body = self.client.transfer(transfer_id)
            yield RawRecord(TRANSFERS_TABLE, transfer.id, body, transfer_keys(transfer))

    def check_account(self) -> None:
        """NotLinkedError unless the key's account is one of the integration's payout documents."""
        declared = self.external_ids.get("payout_documents", [])
        account = self.client.account_document()
        if account not in {digits(d) for d in declared}:
            raise NotLinkedError(
                f"asaas: the API key belongs to the account of document {mask(account)}, which is not among the "
                f"integration's payout_documents {declared}: these credentials do not reach those documents' account"
            )


def mask(document: str) -> str:
    """A CPF/CNPJ (digits) with its middle hidden, enough to tell two apart (`12********0195`)."""
    return document[:2] + "*" * max(len(document) - 6, 0) + document[-4:] if len(document) > 6 else "***"
