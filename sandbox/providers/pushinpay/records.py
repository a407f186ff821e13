"""What PushinPay knows of a world: the stores' accounts and their PIX charges (cash-ins), as PushinPay keeps them.

A charge's life is a few timestamped status changes (`created`, then `paid` — maybe `refunded`
before its release — or, never paid, `canceled`/`expired` once it lapses); `state_at(moment)` is
the charge as PushinPay would answer for it at that moment, which is all the fake API and the
webhooks render. Money is integer centavos, as on PushinPay's wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sandbox.core.parties import Store
from sandbox.core.payments.checkout import CheckoutOrder


@dataclass(frozen=True, slots=True)
class PushinpayAccount:
    """One store's PushinPay account: its API token, its webhook token and how its notifications are encoded."""

    tenant_id: str
    store: Store
    name: str  # the integration's name: the store name as a slug (unique in the world)
    account_id: str  # PushinPay's account id (upper-case UUID, as split_rules name accounts)
    token: str  # the API token (Laravel Sanctum personal token: `<id>|<40 letters/digits><crc32 hex>`)
    webhook_secret: str  # the token set in the panel, sent back in `x-pushinpay-token`
    webhook_encoding: str  # "json" | "form"


@dataclass(frozen=True, slots=True)
class SplitRule:
    """One part PushinPay pays to another PushinPay account: `value` centavos to `account_id`."""

    value: int
    account_id: str


@dataclass(frozen=True, slots=True)
class PixCharge:
    """One PIX charge created through `POST /api/pix/cashIn` by the checkout, and what became of it."""

    id: str  # lower-case UUID, as the create call answers it
    account: str  # the account's name
    tenant_id: str
    order: CheckoutOrder
    value: int  # centavos
    webhook_url: str  # the checkout's receiver, with order / product / affiliate in its query
    split_rules: tuple[SplitRule, ...]
    pix_id: str  # pix_details.id (upper-case UUID)
    emv: str  # the PIX copy-and-paste code (qr_code, pix_details.emv)
    created_at: datetime  # UTC
    expires_at: datetime  # when the QR code stops being payable (pix_details.expiration_date)
    paid_at: datetime | None
    refunded_at: datetime | None
    unpaid_status: str  # "canceled" | "expired"
    end_to_end_id: str | None
    payer_name: str | None
    payer_national_registration: str | None  # masked CPF as PushinPay shows it (`038******39`)
    contracted_fee: int  # centavos, from the tenant's fee schedule (0 when it took no money)
    overcharge: int  # centavos PushinPay kept beyond the contract (only its sweep shows it)
    release: date | None  # R: add_business_days(paid date, release_days), for paid charges

    @property
    def split_total(self) -> int:
        return sum(rule.value for rule in self.split_rules)

    def changes(self) -> list[tuple[datetime, str]]:
        """Every status the charge took, in order, with the time it took it (`created` first)."""
        steps = [(self.created_at, "created")]
        if self.paid_at is not None:
            steps.append((self.paid_at, "paid"))
            if self.refunded_at is not None:
                steps.append((self.refunded_at, "refunded"))
        else:  # never paid: it lapses when its QR code expires (maybe after the world's end)
            steps.append((self.expires_at, self.unpaid_status))
        return steps

    def state_at(self, moment: datetime) -> tuple[str, datetime] | None:
        """(status, updated_at) as PushinPay knows the charge at `moment`; None before it exists."""
        known = [step for step in self.changes() if step[0] <= moment]
        if not known:
            return None
        at, status = known[-1]
        return status, at

    def paid_by(self, moment: datetime) -> bool:
        return self.paid_at is not None and self.paid_at <= moment
