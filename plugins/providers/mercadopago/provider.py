"""`MercadoPagoProvider`: one account's payments, extracted over an interval into `RawRecord`s.

An integration is one Mercado Pago account, reached with its access token. Before anything lands,
the account behind the token is checked against the integration's `payout_documents` (the CNPJ,
or CPF, whose bank account receives the account's releases; staging matches bank credits with
it): MP pays releases out only to a bank account of the account holder's own document, so a
document that is not the account's is a wrong integration, and NotLinkedError names it.

Then every payment whose `date_last_updated` falls in the interval lands in `mercadopago_payments`,
keyed by its `external_reference` (the seller's order id; null when the seller set none), and every
payment whose `money_release_date` falls in it that was not already listed. Filtering by last
update, not by creation, is what brings back older payments when they change: an approval, a
refund or chargeback; the release of their money is asked for by its own date, as MP does not say
that a release moves `date_last_updated` (client.py). Payments are the bulk path: their exact JSON
bytes pass through untouched, pages prefetched while the raw writer loads the previous ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from plugins.providers.base import Interval, Provider, RawRecord
from plugins.providers.errors import NotLinkedError
from plugins.providers.mercadopago import shapes
from plugins.providers.mercadopago.client import MercadoPagoClient
from plugins.providers.mercadopago.webhook import MercadoPagoWebhook
from plugins.providers.transport import prefetched

PAYMENTS_TABLE = "mercadopago_payments"


class MercadoPagoProvider(Provider):
    """Extracts every payment of the account last updated, or with its money released, in the interval."""

    name = "mercadopago"
    default_base_url = MercadoPagoClient.DEFAULT_BASE_URL
    credential_fields = ("access_token",)
    secret_fields = ("access_token",)
    external_id_fields = ("payout_documents",)
    raw_tables: ClassVar[Mapping[str, str]] = {PAYMENTS_TABLE: "external_reference"}
    webhook = MercadoPagoWebhook()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = MercadoPagoClient(
            self.credentials["access_token"], base_url=self.base_url, options=self.transport_options
        )

    def close(self) -> None:
        self.client.close()

    def sync(self, interval: Interval) -> Iterator[RawRecord]:
        check_payout_documents(self.client.account(), self.external_ids.get("payout_documents", []))
        pages = self.client.payment_pages(interval.start, interval.end)
        for page in prefetched(pages, depth=16):
            for payment_id, external_reference, raw in page:
                yield RawRecord(PAYMENTS_TABLE, payment_id, raw, {"external_reference": external_reference})


def digits(document: str) -> str:
    """A CNPJ or CPF without its punctuation: `12.345.678/0001-90` → `12345678000190`."""
    return re.sub(r"\D", "", document)


def check_payout_documents(account: shapes.User, documents: list[str]) -> None:
    """NotLinkedError unless every payout document is the document the account is registered under."""
    if not documents:
        raise NotLinkedError("mercadopago: the integration names no payout_documents to check the account against")
    registered = digits(account.identification.number or "") if account.identification is not None else ""
    wrong = [document for document in documents if not registered or digits(document) != registered]
    if wrong:
        stated = (
            f"registered under a document ending in {registered[-4:]}" if registered else "registered under no document"
        )
        raise NotLinkedError(
            f"mercadopago: payout document {', '.join(wrong)} is not the document of the account of this access "
            f"token (account {account.id}, {stated})"
        )
