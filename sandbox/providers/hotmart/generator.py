"""Hotmart's part in building a world: each store's producer account, its sales, Hotmart's daily deposits.

`sign_up` draws nothing from the shared parties stream it is handed: the tenant's credentials come
from Hotmart's own stream, so adding Hotmart moves nobody's facts (only the bank statements, which
gain Hotmart's credits). `plan` gives every store one producer account and tells its story
(`sandbox.core.payments.sales.SalesStory`: orders, bumps, subscriptions, fates, commissions,
releases, refunds and chargebacks, deposits) with Hotmart's terms; each deposit becomes the bank
credits `sandbox.core.payments.payouts` plans for it (faults included), paid by `HOTMART_PAYER`.
`finish` states the facts once the bank has posted them.

The contract (`fee_schedule`): Hotmart's published Brazilian price, 9.9 % + R$ 1.00 per sale
(hotmart.com "Preços"/"Taxas"; the same for every method; installments are paid by the buyer), with
`release_days` = `hotmart_release_days`. The first tenant renegotiated in the middle of the world:
every row is cut at the change day and followed by one at 8.9 % + R$ 1.00, so the fee audit must
pick the row valid on the paid date. Rates and release term are the sandbox's contract, not a quote.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from sandbox.core.bank import PlannedCredit
from sandbox.core.ids import secret, uuid4
from sandbox.core.parties import ClientCredentials, Parties, new_client_credentials
from sandbox.core.payments.checkout import Catalogue, SplitRate, catalogue
from sandbox.core.payments.facts import FeeScheduleRow, PayoutFacts
from sandbox.core.payments.payouts import credit_facts, draw_fault, plan_credits
from sandbox.core.payments.sales import SalesStory, SalesTerms, account_names
from sandbox.core.payments.sales import fee_schedule as sales_fee_schedule
from sandbox.core.platform import PostedBank
from sandbox.core.streams import stream
from sandbox.providers.hotmart import NAME
from sandbox.providers.hotmart.facts import HotmartFacts, payout_id
from sandbox.providers.hotmart.knobs import HotmartKnobs
from sandbox.providers.hotmart.payer import HOTMART_PAYER
from sandbox.providers.hotmart.records import HotmartAccount, HotmartProduct, HotmartSale, Party

METHODS = ("card", "pix", "boleto")
PERCENT = Decimal("9.9")
RENEGOTIATED_PERCENT = Decimal("8.9")
FIXED = Decimal("1.00")
BANDS = (("pix", 1, 1), ("boleto", 1, 1), ("card", 1, 1), ("card", 2, 12))
PIX_TTL_HOURS = 24
BOLETO_TTL_DAYS = 3
_FIRST = ("Ana", "Bruno", "Carla", "Diego", "Elisa", "Felipe", "Gabriela", "Heitor", "Isabela", "João")
_LAST = ("Souza", "Lima", "Costa", "Almeida", "Ribeiro", "Carvalho", "Gomes", "Martins", "Rocha", "Barros")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def fee_schedule(tenant_id: str, knobs: HotmartKnobs, *, renegotiated: bool) -> tuple[FeeScheduleRow, ...]:
    return sales_fee_schedule(
        NAME,
        tenant_id,
        knobs,
        BANDS,
        PERCENT,
        FIXED,
        knobs.hotmart_release_days,
        renegotiated_percent=RENEGOTIATED_PERCENT if renegotiated else None,
    )


def terms(knobs: HotmartKnobs) -> SalesTerms:
    return SalesTerms(
        platform=NAME,
        orders_per_day=knobs.hotmart_orders_per_day,
        methods=METHODS,
        warranty_days=knobs.hotmart_warranty_days,
        pix_ttl_hours=PIX_TTL_HOURS,
        boleto_ttl_days=BOLETO_TTL_DAYS,
        subscription_share=knobs.hotmart_subscription_share,
        subscription_cancel_rate=knobs.hotmart_subscription_cancel_rate,
    )


def new_account(seed: int, tenant_id: str, store_index: int, store, name: str) -> HotmartAccount:
    """Hotmart's credential: a client id and secret (UUIDs), the Basic string (base64 of
    `client_id:client_secret`), and the account's hottok (a 40-character token)."""
    rng = stream(seed, NAME, "account", tenant_id, store_index)
    client_id, client_secret = uuid4(rng), uuid4(rng)
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    return HotmartAccount(tenant_id, store, name, client_id, client_secret, basic, secret(rng, 40), uuid4(rng))


def _person(rng: random.Random, domain: str = "email.com") -> Party:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    handle = f"{first}.{last}{rng.randrange(100, 999)}".lower().replace("ã", "a").replace("é", "e").replace("ú", "u")
    return Party(uuid4(rng), f"{first} {last}", f"{handle}@{domain}")


def products_of(seed: int, shop: Catalogue) -> dict[str, HotmartProduct]:
    """The tenant's catalogue as Hotmart numbers it (7-digit product ids, UUID ucodes)."""
    rng = stream(seed, NAME, "products", shop.tenant_id)
    out: dict[str, HotmartProduct] = {}
    for p in shop.products:
        out[p.product_id] = HotmartProduct(rng.randrange(1_000_000, 9_999_999), uuid4(rng), p.name, p.product_id)
    for plan in shop.plans:
        out[plan.product_id] = HotmartProduct(
            rng.randrange(1_000_000, 9_999_999),
            uuid4(rng),
            plan.name,
            plan.product_id,
            rng.randrange(100_000, 999_999),
            f"{plan.name} ({'Mensal' if plan.period == 'monthly' else 'Semanal'})",
        )
    return out


def platform_rates(shop: Catalogue, products: dict[str, HotmartProduct]) -> list[SplitRate]:
    """The tenant's split contract keyed by Hotmart's product ids (the ids the warehouse reads)."""
    return [
        r if r.product_id is None else replace(r, product_id=str(products[r.product_id].id)) for r in shop.split_rates
    ]


class HotmartGenerator:
    """Generates one world's Hotmart facts (the `PlatformGenerator` of sandbox.core.platform)."""

    def __init__(self, config: HotmartKnobs) -> None:
        self.config = config
        self._signed: set[str] = set()
        self._accounts: list[HotmartAccount] = []
        self._sales: list[HotmartSale] = []
        self._payouts: list[PayoutFacts] = []
        self._fee_rows: list[FeeScheduleRow] = []
        self._split_rates: list[SplitRate] = []
        self._products: dict[str, dict[str, HotmartProduct]] = {}
        self._planned: list[PlannedCredit] = []

    def sign_up(self, tenant_id: str, rng: random.Random) -> ClientCredentials:
        """The tenant's Hotmart login, from Hotmart's own stream (`rng` is not drawn from)."""
        self._signed.add(tenant_id)
        return new_client_credentials(stream(self.config.seed, NAME, "tenant", tenant_id))

    def plan(self, parties: Parties) -> Sequence[PlannedCredit]:
        k = self.config
        names = iter(account_names(parties.stores))
        for t, tenant in enumerate(parties.tenants):
            shop = catalogue(k.seed, tenant.tenant_id, k.start, k.days)
            products = products_of(k.seed, shop)
            self._products[tenant.tenant_id] = products
            rows = fee_schedule(tenant.tenant_id, k, renegotiated=t == 0)
            self._fee_rows.extend(rows)
            self._split_rates.extend(platform_rates(shop, products))
            people = stream(k.seed, NAME, "people", tenant.tenant_id)
            affiliates = {a: replace(_person(people), code=_code(people, 8)) for a in shop.affiliates}
            coproducers = {
                c.party_id: Party(uuid4(people), c.name, f"contato@{c.party_id}.example")
                for c in shop.coproducers.values()
            }
            for s, store in enumerate(tenant.stores):
                account = new_account(k.seed, tenant.tenant_id, s, store, next(names))
                self._accounts.append(account)
                story = SalesStory(terms(k), k, account.name, store, s, shop, rows).tell()
                self._sales.extend(self._render(story, account, products, affiliates, coproducers))
                for day, amount in story.deposits:
                    self._payouts.append(
                        PayoutFacts(
                            NAME,
                            tenant.tenant_id,
                            account.name,
                            store.account_id,
                            payout_id(account.name, day),
                            amount,
                            day,
                        )
                    )
        for account in self._accounts:
            rng = stream(k.seed, NAME, "payouts", account.name)
            for payout in (x for x in self._payouts if x.integration == account.name):
                self._planned.extend(plan_credits(rng, payout, HOTMART_PAYER, draw_fault(rng, k.payout_fault_rate)))
        return list(self._planned)

    def _render(self, story: SalesStory, account, products, affiliates, coproducers) -> list[HotmartSale]:
        rng = stream(self.config.seed, NAME, "sales", account.name)
        subscribers: dict[str, str] = {}
        transactions: list[str] = []
        out = []
        for sale in story.sales:
            transaction = f"HP{rng.randrange(10**13, 10**14)}"
            transactions.append(transaction)
            buyer = _person(rng)
            offer = _code(rng, 8)
            events = tuple(uuid4(rng) for _ in range(8))
            sub = sale.subscription
            code = None
            if sub is not None:
                code = subscribers.setdefault(sub.key, _code(rng, 8))
            cop = sale.coproducer
            out.append(
                HotmartSale(
                    sale=sale,
                    transaction=transaction,
                    product=products[sale.product_id],
                    parent_transaction=transactions[sale.parent] if sale.parent is not None else None,
                    buyer=buyer,
                    affiliate=affiliates[sale.affiliate_id] if sale.affiliate_id is not None else None,
                    coproducer=coproducers[cop.party_id] if cop is not None else None,
                    subscriber_code=code,
                    offer_code=offer,
                    event_ids=events,
                )
            )
        return out

    def finish(self, bank: PostedBank) -> HotmartFacts:
        if not self._signed:
            raise RuntimeError("sign_up must run before finish")
        return HotmartFacts.build(
            self.config,
            tuple(self._accounts),
            tuple(self._sales),
            tuple(self._payouts),
            tuple(self._fee_rows),
            tuple(self._split_rates),
            credit_facts(NAME, bank.posted, self._planned),
            self._products,
        )


def _code(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(n))
