"""Mercado Pago's part in building a world: the tenants' applications, one account per store, its story.

`sandbox.world.World` calls `sign_up` per tenant (the tenant's MP application, drawn from a stream
of Mercado Pago's own: the shared parties stream it is handed is left untouched, so adding Mercado
Pago moves nobody's world), `plan` once the stores exist (every store gets an account reached with
an access token of its tenant's application; `story.AccountStory` tells its payments and
withdrawals; each withdrawal becomes the bank credits `sandbox.core.payments.payouts` plans for it,
faults included, paid by `MERCADOPAGO_PAYER`), and `finish` once the bank has posted them.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from datetime import timedelta

from sandbox.core.bank import PlannedCredit
from sandbox.core.ids import secret
from sandbox.core.parties import ClientCredentials, Parties, Store
from sandbox.core.payments.checkout import catalogue
from sandbox.core.payments.facts import FeeScheduleRow
from sandbox.core.payments.payouts import credit_facts, draw_fault, plan_credits
from sandbox.core.platform import PostedBank
from sandbox.core.streams import stream
from sandbox.providers.mercadopago import NAME
from sandbox.providers.mercadopago.facts import MercadoPagoFacts, payout_facts
from sandbox.providers.mercadopago.fees import fee_schedule
from sandbox.providers.mercadopago.knobs import MercadoPagoKnobs
from sandbox.providers.mercadopago.payer import MERCADOPAGO_PAYER
from sandbox.providers.mercadopago.records import Account, Application
from sandbox.providers.mercadopago.story import AccountStory, business_days


def slug(text: str) -> str:
    """`Pizzaria Bella Nápoli` → `pizzaria-bella-napoli`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "store"


def new_application(seed: int, tenant_id: str) -> Application:
    """The tenant's MP application: a 16-digit id, a client secret, a 64-hex signature secret."""
    rng = stream(seed, NAME, "application", tenant_id)
    application_id = str(rng.randrange(10**15, 10**16))
    return Application(application_id, secret(rng, 32), f"{rng.getrandbits(256):064x}")


def new_account(
    seed: int,
    application: Application,
    tenant_id: str,
    store_index: int,
    store: Store,
    name: str,
    knobs: MercadoPagoKnobs,
) -> Account:
    """The store's account and the access token the tenant's application holds for it.

    MP's production tokens read `APP_USR-<application id>-<MMDDHH issued>-<32 hex>-<user id>`.
    """
    rng = stream(seed, NAME, "account", tenant_id, store_index)
    collector_id = rng.randrange(100_000_000, 3_000_000_000)
    registered = knobs.start - timedelta(days=rng.randrange(30, 900))
    issued = knobs.start - timedelta(days=rng.randrange(1, 30))
    stamp = f"{issued.month:02d}{issued.day:02d}{rng.randrange(24):02d}"
    token = f"APP_USR-{application.application_id}-{stamp}-{rng.getrandbits(128):032x}-{collector_id}"
    return Account(name, tenant_id, store, collector_id, token, application.webhook_secret, registered)


class MercadoPagoGenerator:
    """Generates one world's Mercado Pago facts (the `PlatformGenerator` of sandbox.core.platform)."""

    def __init__(self, config: MercadoPagoKnobs) -> None:
        self.config = config
        self._applications: dict[str, Application] = {}
        self._stories: tuple[AccountStory, ...] = ()
        self._fee_rows: tuple[FeeScheduleRow, ...] = ()
        self._split_rates: tuple = ()
        self._planned: list[PlannedCredit] = []

    def sign_up(self, tenant_id: str, rng: random.Random) -> ClientCredentials:
        """The tenant's MP application, from Mercado Pago's own stream (`rng` is not drawn from)."""
        application = new_application(self.config.seed, tenant_id)
        self._applications[tenant_id] = application
        return ClientCredentials(application.application_id, application.client_secret)

    def plan(self, parties: Parties) -> Sequence[PlannedCredit]:
        """Every store's account, payments and withdrawals; the bank credits Mercado Pago pays."""
        k = self.config
        days = business_days(k)
        stories, fee_rows, split_rates = [], [], []
        taken: set[str] = set()
        position = 0
        for t, tenant in enumerate(parties.tenants):
            application = self._applications[tenant.tenant_id]
            shop = catalogue(k.seed, tenant.tenant_id, k.start, k.days)
            rows = fee_schedule(tenant.tenant_id, k, renegotiated=t == 0)
            fee_rows.extend(rows)
            split_rates.extend(shop.split_rates)
            for s, store in enumerate(tenant.stores):
                name = base = slug(store.name)
                n = 2
                while name in taken:
                    name, n = f"{base}-{n}", n + 1
                taken.add(name)
                account = new_account(k.seed, application, tenant.tenant_id, s, store, name, k)
                stories.append(AccountStory(k, account, position, s, shop, rows, days).tell())
                position += 1
        self._stories, self._fee_rows, self._split_rates = tuple(stories), tuple(fee_rows), tuple(split_rates)
        self._planned = []
        for story in self._stories:
            rng = stream(k.seed, NAME, "payouts", story.account.name)
            for payout in story.payouts:
                generic = payout_facts(payout)
                self._planned.extend(
                    plan_credits(rng, generic, MERCADOPAGO_PAYER, draw_fault(rng, k.payout_fault_rate))
                )
        return list(self._planned)

    def finish(self, bank: PostedBank) -> MercadoPagoFacts:
        if not self._applications:
            raise RuntimeError("sign_up must run before finish")
        return MercadoPagoFacts.build(
            self.config,
            self._applications,
            self._stories,
            self._fee_rows,
            self._split_rates,
            credit_facts(NAME, bank.posted, self._planned),
        )
