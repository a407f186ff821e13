"""What the sandbox's Mercado Pago holds: accounts (one per store) and their payments, as MP knows them.

Plain frozen records, built once per world by the generator (`story.py`) and only read after:
the fake API renders them in MP's wire format (`wire.py`), the webhooks render notifications of
them (`webhooks.py`), and `facts.py` states them in the rules' generic terms. Times are tz-aware
UTC instants to the second; money is `Decimal` to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sandbox.core.calendar import SAO_PAULO
from sandbox.core.parties import Store
from sandbox.core.payments.checkout import CheckoutOrder

# MP statuses that moved money (the payment was approved at some point)
MONEY_STATUSES = ("approved", "refunded", "charged_back")


@dataclass(frozen=True, slots=True)
class Application:
    """A tenant's Mercado Pago application: its id (the number in its access tokens), secret and
    the signature secret of its Webhooks ("assinatura secreta", shared by the notifications of
    every account it serves)."""

    application_id: str
    client_secret: str
    webhook_secret: str


@dataclass(frozen=True, slots=True)
class Account:
    """A store's Mercado Pago account, reached with the access token the tenant's application holds for it."""

    name: str  # the integration's name: a slug of the store name, unique in the world
    tenant_id: str
    store: Store
    collector_id: int  # MP's user id of the account (the last part of its access token)
    access_token: str  # APP_USR-<application id>-<MMDDHH>-<32 hex>-<collector id>
    webhook_secret: str
    registered_on: date


@dataclass(frozen=True, slots=True)
class Refund:
    """A full refund of a payment (`refunds[]`)."""

    refund_id: int
    payment_id: int
    amount: Decimal
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Payment:
    """One payment of an account as MP serves it as of the world's `as_of`."""

    payment_id: int
    account: str  # Account.name
    collector_id: int
    order: CheckoutOrder
    description: str
    status: str  # approved | pending | in_process | rejected | cancelled | refunded | charged_back
    status_detail: str
    payment_method_id: str  # pix | visa | master | elo | amex | hipercard
    payment_type_id: str  # bank_transfer (PIX) | credit_card
    installments: int
    gross: Decimal  # transaction_amount
    mp_fee: Decimal  # fee_details mercadopago_fee (0 when the payment took no money)
    application_fee: Decimal  # fee_details application_fee: the checkout's platform fee, withheld by MP
    created_at: datetime
    approved_at: datetime | None
    expires_at: datetime | None  # date_of_expiration (PIX)
    release_at: datetime | None  # money_release_date (approved payments)
    released: bool  # money_release_status: the money reached the account's balance by as_of
    refunds: tuple[Refund, ...]
    charged_back_at: datetime | None
    last_updated: datetime

    @property
    def took_money(self) -> bool:
        return self.status in MONEY_STATUSES

    @property
    def net(self) -> Decimal:
        """`transaction_details.net_received_amount`: the amount less every fee (0 when nothing was received)."""
        return self.gross - self.mp_fee - self.application_fee if self.took_money else Decimal("0.00")

    @property
    def release_date(self) -> date | None:
        """`R`: the São Paulo date of `money_release_date`."""
        return self.release_at.astimezone(SAO_PAULO).date() if self.release_at else None

    @property
    def refunded_amount(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal("0.00"))
