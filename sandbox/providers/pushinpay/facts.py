"""One world's PushinPay facts: the stores' accounts and PIX charges (what the fake API serves), and
the generic facts of docs/payment-reconciliation-rules.md (what the ground truth reads).

`World.facts["pushinpay"]` is this object, built once by `PushinpayGenerator.finish`, then only read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.core.parties import Tenant
from sandbox.core.payments.gateway import GatewayFacts, account_credentials
from sandbox.providers.pushinpay import NAME
from sandbox.providers.pushinpay.records import PixCharge, PushinpayAccount


@dataclass
class PushinpayFacts(GatewayFacts):
    """PushinPay's part of a world (the `PlatformFacts` of sandbox.core.platform).

    Besides the generic `payments`, `payouts`, `credits` and contracts: `accounts` (one per store,
    in store order), `charges` (by account, then creation time) and `world_end` (the moment the
    world's story stops: `as_of` 00:00 in São Paulo; the API and the webhooks show nothing later).
    Lookups: `charge_by_id` (lower-case id), `account_by_token`, `account_by_name`,
    `charges_by_account`.
    """

    # its withheld split (split[] / split_rules) carries the affiliate commission (rules doc, "Splits")
    withheld_part: str = "affiliate_commission"

    accounts: tuple[PushinpayAccount, ...] = ()
    charges: tuple[PixCharge, ...] = ()
    world_end: datetime | None = None
    charge_by_id: dict[str, PixCharge] = field(init=False, repr=False)
    account_by_token: dict[str, PushinpayAccount] = field(init=False, repr=False)
    account_by_name: dict[str, PushinpayAccount] = field(init=False, repr=False)
    charges_by_account: dict[str, list[PixCharge]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.charge_by_id = {c.id: c for c in self.charges}
        self.account_by_token = {a.token: a for a in self.accounts}
        self.account_by_name = {a.name: a for a in self.accounts}
        self.charges_by_account = {a.name: [] for a in self.accounts}
        for charge in self.charges:
            self.charges_by_account[charge.account].append(charge)

    def tenant_credentials(self, tenant: Tenant) -> dict[str, Any]:
        """One integration per PushinPay account of the tenant (one per store)."""
        return {
            "accounts": [
                account_credentials(a.name, a.store, a.webhook_secret, a.store.cnpj, token=a.token)
                for a in self.accounts
                if a.tenant_id == tenant.tenant_id
            ]
        }

    def summary(self) -> dict[str, int]:
        return {f"{NAME}_charges": len(self.charges), f"{NAME}_payouts": len(self.payouts)}

    def digest_parts(self) -> Iterator[str]:
        yield from self.generic_digest_parts()
        for account in self.accounts:
            yield repr(account)
        for charge in self.charges:
            yield repr(charge)
        for credit in self.credits:
            yield repr(credit)
