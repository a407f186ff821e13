"""Kiwify's part in building a world: each store's producer account, its sales, Kiwify's daily payouts.

`sign_up` draws only from Kiwify's own
stream; `plan` gives every store one account and tells its story
(`sandbox.core.payments.sales.SalesStory` with Kiwify's terms) and, per business day with released
sales, one payout object (`GET /v1/payouts`: a UUID, `amount` the rules' daily sum in centavos,
`created_at` that São Paulo day between 08:00 and 12:00), each paid into the bank through
`draw_fault` / `plan_credits` by `KIWIFY_PAYER`.

The contract (`fee_schedule`): Kiwify's published price, 8.99 % + R$ 2.49 per sale
(kiwify.com.br "Taxas"; every method), `release_days` = `kiwify_release_days`; the first tenant's
percent drops to 7.99 % in the middle of the world. The sandbox's contract, not a quote.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sandbox.core.bank import PlannedCredit
from sandbox.core.calendar import SAO_PAULO
from sandbox.core.ids import digits_only, new_cpf, secret, uuid4
from sandbox.core.parties import ClientCredentials, Parties, new_client_credentials
from sandbox.core.payments.checkout import Catalogue, SplitRate, catalogue
from sandbox.core.payments.facts import FeeScheduleRow, PayoutFacts
from sandbox.core.payments.payouts import credit_facts, draw_fault, plan_credits
from sandbox.core.payments.sales import SalesStory, SalesTerms, account_names
from sandbox.core.payments.sales import fee_schedule as sales_fee_schedule
from sandbox.core.platform import PostedBank
from sandbox.core.streams import stream
from sandbox.providers.kiwify import NAME
from sandbox.providers.kiwify.facts import KiwifyFacts
from sandbox.providers.kiwify.knobs import KiwifyKnobs
from sandbox.providers.kiwify.payer import KIWIFY_PAYER
from sandbox.providers.kiwify.records import KiwifyAccount, KiwifyPayout, KiwifySale, Partner

METHODS = ("card", "pix", "boleto")
PERCENT = Decimal("8.99")
RENEGOTIATED_PERCENT = Decimal("7.99")
FIXED = Decimal("2.49")
BANDS = (("pix", 1, 1), ("boleto", 1, 1), ("card", 1, 1), ("card", 2, 12))
PIX_TTL_HOURS = 24
BOLETO_TTL_DAYS = 3
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_FIRST = ("Ana", "Bruno", "Carla", "Diego", "Elisa", "Felipe", "Gabriela", "Heitor", "Isabela", "Joana")
_LAST = ("Souza", "Lima", "Costa", "Almeida", "Ribeiro", "Carvalho", "Gomes", "Martins", "Rocha", "Barros")


def fee_schedule(tenant_id: str, knobs: KiwifyKnobs, *, renegotiated: bool) -> tuple[FeeScheduleRow, ...]:
    return sales_fee_schedule(
        NAME,
        tenant_id,
        knobs,
        BANDS,
        PERCENT,
        FIXED,
        knobs.kiwify_release_days,
        renegotiated_percent=RENEGOTIATED_PERCENT if renegotiated else None,
    )


def terms(knobs: KiwifyKnobs) -> SalesTerms:
    return SalesTerms(
        platform=NAME,
        orders_per_day=knobs.kiwify_orders_per_day,
        methods=METHODS,
        warranty_days=knobs.kiwify_warranty_days,
        pix_ttl_hours=PIX_TTL_HOURS,
        boleto_ttl_days=BOLETO_TTL_DAYS,
        subscription_share=knobs.kiwify_subscription_share,
        subscription_cancel_rate=knobs.kiwify_subscription_cancel_rate,
    )


def _code(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(n))


def new_account(seed: int, tenant_id: str, store_index: int, store, name: str) -> KiwifyAccount:
    """An API key (client id UUID, 64-hex secret), the account id (15 letters and digits, the shape of
    Kiwify's store ids; UNCONFIRMED), the webhook token (32 letters and digits) and a legal entity id."""
    rng = stream(seed, NAME, "account", tenant_id, store_index)
    return KiwifyAccount(
        tenant_id,
        store,
        name,
        uuid4(rng),
        f"{rng.getrandbits(256):064x}",
        _code(rng, 15),
        secret(rng, 32),
        uuid4(rng),
    )


def _person(rng: random.Random) -> Partner:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return Partner(
        uuid4(rng),
        f"{first} {last}",
        digits_only(new_cpf(rng)),
        f"{first}.{last}{rng.randrange(100, 999)}@email.com".lower(),
    )


class KiwifyGenerator:
    """Generates one world's Kiwify facts (the `PlatformGenerator` of sandbox.core.platform)."""

    def __init__(self, config: KiwifyKnobs) -> None:
        self.config = config
        self._signed: set[str] = set()
        self._accounts: list[KiwifyAccount] = []
        self._sales: list[KiwifySale] = []
        self._payouts: list[KiwifyPayout] = []
        self._generic_payouts: list[PayoutFacts] = []
        self._fee_rows: list[FeeScheduleRow] = []
        self._split_rates: list[SplitRate] = []
        self._planned: list[PlannedCredit] = []

    def sign_up(self, tenant_id: str, rng: random.Random) -> ClientCredentials:
        """The tenant's Kiwify login, from Kiwify's own stream (`rng` is not drawn from)."""
        self._signed.add(tenant_id)
        return new_client_credentials(stream(self.config.seed, NAME, "tenant", tenant_id))

    def plan(self, parties: Parties) -> Sequence[PlannedCredit]:
        k = self.config
        names = iter(account_names(parties.stores))
        for t, tenant in enumerate(parties.tenants):
            shop = catalogue(k.seed, tenant.tenant_id, k.start, k.days)
            ids = stream(k.seed, NAME, "products", tenant.tenant_id)
            products = {p.product_id: (uuid4(ids), p.name) for p in shop.products}
            plans = {p.product_id: (uuid4(ids), p.name, uuid4(ids)) for p in shop.plans}
            products.update({key: (v[0], v[1]) for key, v in plans.items()})
            rows = fee_schedule(tenant.tenant_id, k, renegotiated=t == 0)
            self._fee_rows.extend(rows)
            self._split_rates.extend(_platform_rates(shop, products))
            people = stream(k.seed, NAME, "people", tenant.tenant_id)
            affiliates = {a: _person(people) for a in shop.affiliates}
            coproducers = {
                c.party_id: Partner(
                    _code(people, 15), c.name.upper(), digits_only(c.document), f"contato@{c.party_id}.example"
                )
                for c in shop.coproducers.values()
            }
            for s, store in enumerate(tenant.stores):
                account = new_account(k.seed, tenant.tenant_id, s, store, next(names))
                self._accounts.append(account)
                story = SalesStory(terms(k), k, account.name, store, s, shop, rows).tell()
                self._sales.extend(self._render(story, account, products, plans, affiliates, coproducers))
                times = stream(k.seed, NAME, "payout-times", account.name)
                for day, amount in story.deposits:
                    at = datetime.combine(day, time(8), SAO_PAULO) + timedelta(seconds=times.randrange(4 * 3600))
                    payout = KiwifyPayout(
                        uuid4(times), account.name, account.legal_entity_id, day, amount, at.astimezone(UTC)
                    )
                    self._payouts.append(payout)
                    self._generic_payouts.append(
                        PayoutFacts(NAME, tenant.tenant_id, account.name, store.account_id, payout.id, amount, day)
                    )
        for account in self._accounts:
            rng = stream(k.seed, NAME, "payouts", account.name)
            for payout in (x for x in self._generic_payouts if x.integration == account.name):
                self._planned.extend(plan_credits(rng, payout, KIWIFY_PAYER, draw_fault(rng, k.payout_fault_rate)))
        return list(self._planned)

    def _render(self, story, account, products, plans, affiliates, coproducers) -> list[KiwifySale]:
        rng = stream(self.config.seed, NAME, "sales", account.name)
        subscriptions: dict[str, str] = {}
        ids: list[str] = []
        out = []
        for sale in story.sales:
            sale_id = uuid4(rng)
            ids.append(sale_id)
            customer = _person(rng)
            reference = _code(rng, 7)
            hours = rng.randint(2, 48)
            sub = sale.subscription
            sub_id = subscriptions.setdefault(sub.key, uuid4(rng)) if sub is not None else None
            plan = plans.get(sale.product_id)
            product_id, product_name = products[sale.product_id]
            cop = sale.coproducer
            out.append(
                KiwifySale(
                    sale=sale,
                    id=sale_id,
                    reference=reference,
                    product_id=product_id,
                    product_name=product_name,
                    parent_id=ids[sale.parent] if sale.parent is not None else None,
                    customer=customer,
                    affiliate=affiliates[sale.affiliate_id] if sale.affiliate_id is not None else None,
                    coproducer=coproducers[cop.party_id] if cop is not None else None,
                    subscription_id=sub_id,
                    plan_id=plan[2] if plan is not None else None,
                    plan_name=plan[1] if plan is not None else None,
                    refund_requested_hours=hours,
                )
            )
        return out

    def finish(self, bank: PostedBank) -> KiwifyFacts:
        if not self._signed:
            raise RuntimeError("sign_up must run before finish")
        return KiwifyFacts.build(
            self.config,
            tuple(self._accounts),
            tuple(self._sales),
            tuple(self._payouts),
            tuple(self._generic_payouts),
            tuple(self._fee_rows),
            tuple(self._split_rates),
            credit_facts(NAME, bank.posted, self._planned),
        )


def _platform_rates(shop: Catalogue, products: dict[str, tuple[str, str]]) -> list[SplitRate]:
    """The tenant's split contract keyed by Kiwify's product ids (the ids the warehouse reads)."""
    return [r if r.product_id is None else replace(r, product_id=products[r.product_id][0]) for r in shop.split_rates]
