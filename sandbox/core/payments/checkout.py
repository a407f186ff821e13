"""The checkout every gateway sells through: each tenant's catalogue, and the orders drawn from it.

A tenant's catalogue is a pure function of the seed and the tenant (stream ("checkout", tenant)),
so every gateway's generator draws the same catalogue without sharing state: products of a few
producers, each with offers (prices), maybe an order bump, the tenant's coupons and affiliates,
and the split rates the tenant agreed with its producers (control.split_rates in the warehouse),
one of which changes in the middle of the world so that rate validity matters.

Orders are drawn by each gateway from its own stream: `draw_order` composes the gross from the
offer, the bump and the coupon, picks a method the gateway supports and, for cards, 1–12
installments. The gross is the buyer's price; the gateway's fee and the split come later.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sandbox.core.calendar import SAO_PAULO
from sandbox.core.ids import new_cnpj, new_cpf
from sandbox.core.money import q
from sandbox.core.parties import Store
from sandbox.core.streams import stream

PLATFORM_FEE_RATE = Decimal("0.04")  # the design's default platform fee (4 % of gross)
AFFILIATE_RATE = Decimal("0.30")  # the design's example affiliate commission (30 % of net)
METHODS = ("pix", "card", "boleto")
# card installment counts and their weights: most buyers pay at once, some spread it over the year
INSTALLMENT_WEIGHTS = {1: 50, 2: 8, 3: 10, 4: 4, 5: 4, 6: 6, 7: 2, 8: 2, 9: 2, 10: 6, 11: 2, 12: 4}
_PRODUCT_NAMES = (
    "Curso de Confeitaria Profissional",
    "Mentoria Tráfego Pago",
    "Planilha Financeira Premium",
    "Ebook Receitas Low Carb",
    "Método Inglês em 90 Dias",
    "Comunidade Fotografia Mobile",
    "Treino Funcional em Casa",
    "Workshop Excel Avançado",
    "Guia Investimentos para Iniciantes",
    "Curso de Maquiagem Express",
)
PERIODS = {"weekly": 7, "monthly": 30}  # a subscription plan's period, in days between charges
_PRICES = ("27.00", "37.00", "47.00", "67.00", "97.00", "147.00", "197.00", "297.00", "497.00", "997.00", "1997.00")


@dataclass(frozen=True, slots=True)
class Offer:
    code: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    producer_id: str
    name: str
    offers: tuple[Offer, ...]
    bump: tuple[str, Decimal] | None  # (bump product id, its price) offered on this product's checkout


@dataclass(frozen=True, slots=True)
class Coupon:
    code: str
    percent_off: Decimal


@dataclass(frozen=True, slots=True)
class SplitRate:
    """A row of the tenant's split contract (control.split_rates): product None = the tenant's default."""

    tenant_id: str
    product_id: str | None
    platform_fee_rate: Decimal
    affiliate_rate: Decimal
    valid_from: date
    valid_to: date | None  # inclusive; None = open
    # the co-producer's share of (gross − fee − affiliate commission) at the sales platforms
    # (docs/payment-reconciliation-rules.md, "Commissions by role"); 0 where no co-producer shares the product
    coproducer_rate: Decimal = Decimal("0")

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def to_dict(self) -> dict[str, str | None]:
        return {
            "tenant_id": self.tenant_id,
            "product_id": self.product_id,
            "platform_fee_rate": str(self.platform_fee_rate),
            "affiliate_rate": str(self.affiliate_rate),
            "coproducer_rate": str(self.coproducer_rate),
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
        }


@dataclass(frozen=True, slots=True)
class Coproducer:
    """A party that co-produces a product and takes `rate` of (gross − fee − affiliate commission)
    of each of its sales at the sales platforms; the same for the whole world."""

    party_id: str
    name: str
    document: str  # CPF or CNPJ, formatted
    rate: Decimal


@dataclass(frozen=True, slots=True)
class Plan:
    """A subscription product's plan: a price charged every `period` (its renewals are new sales)."""

    plan_id: str
    product_id: str
    name: str
    price: Decimal
    period: str  # "weekly" | "monthly"

    @property
    def period_days(self) -> int:
        return PERIODS[self.period]


@dataclass(frozen=True)
class Catalogue:
    tenant_id: str
    products: tuple[Product, ...]
    coupons: tuple[Coupon, ...]
    affiliates: tuple[str, ...]
    split_rates: tuple[SplitRate, ...]
    # drawn from a stream of their own after the rest, so the gateways' draws do not move:
    coproducers: Mapping[str, Coproducer] = field(default_factory=dict)  # by product id
    plans: tuple[Plan, ...] = ()  # subscription products (not in `products`: gateways never sell them)

    def product(self, product_id: str) -> Product | Plan:
        for p in self.products:
            if p.product_id == product_id:
                return p
        for plan in self.plans:
            if plan.product_id == product_id:
                return plan
        raise KeyError(f"{self.tenant_id}: no product {product_id}")

    def rates_on(self, product_id: str | None, day: date) -> SplitRate:
        """The split contract row for a product on a day: the product's own, else the tenant default."""
        for wanted in (product_id, None):
            for rate in self.split_rates:
                if rate.product_id == wanted and rate.covers(day):
                    return rate
        raise LookupError(f"{self.tenant_id}: no split rate covers {product_id} on {day}")


def catalogue(seed: int, tenant_id: str, start: date, days: int) -> Catalogue:
    """The tenant's catalogue and split contract; the same for every gateway (its own stream)."""
    rng = stream(seed, "checkout", tenant_id)
    tag = tenant_id.rsplit("-", 1)[-1]
    producers = [f"prod_{tag}_{i + 1}" for i in range(rng.randint(2, 4))]
    names = rng.sample(_PRODUCT_NAMES, rng.randint(3, 5))
    products = []
    for i, name in enumerate(names):
        product_id = f"prd_{tag}_{i + 1:02d}"
        base = Decimal(rng.choice(_PRICES))
        offers = [Offer(f"off_{tag}_{i + 1:02d}a", base)]
        if rng.random() < 0.6:  # a second, promotional offer
            offers.append(Offer(f"off_{tag}_{i + 1:02d}b", q(base * Decimal("0.8")) - Decimal("0.10")))
        products.append(Product(product_id, rng.choice(producers), name, tuple(offers), None))
    # order bumps: some products offer another one of the catalogue at a discount on their checkout
    with_bumps = []
    for product in products:
        others = [p for p in products if p.product_id != product.product_id]
        if others and rng.random() < 0.5:
            bump = rng.choice(others)
            with_bumps.append(
                Product(
                    product.product_id,
                    product.producer_id,
                    product.name,
                    product.offers,
                    (bump.product_id, q(bump.offers[0].price * Decimal("0.5"))),
                )
            )
        else:
            with_bumps.append(product)
    coupons = tuple(
        Coupon(code, Decimal(percent)) for code, percent in (("BEMVINDO10", "10"), ("BLACK30", "30"), ("VIP15", "15"))
    )
    affiliates = tuple(f"aff_{tag}_{i + 1:03d}" for i in range(rng.randint(3, 8)))
    default = SplitRate(tenant_id, None, PLATFORM_FEE_RATE, AFFILIATE_RATE, date(2015, 1, 1), None)
    rates = [default]
    # one product with a contract of its own, whose affiliate rate changes mid-world (validity matters)
    special = with_bumps[rng.randrange(len(with_bumps))].product_id
    change = start + timedelta(days=max(1, days // 2))
    rates.append(
        SplitRate(tenant_id, special, Decimal("0.05"), Decimal("0.40"), date(2015, 1, 1), change - timedelta(days=1))
    )
    rates.append(SplitRate(tenant_id, special, Decimal("0.05"), Decimal("0.25"), change, None))
    coproducers, plans = _sales_extras(seed, tenant_id, tuple(with_bumps))
    # a co-produced product's contract rows carry its co-producer's rate (its own rows: the tenant's
    # default rates, so every gateway's split is what it was without them)
    for product_id, coproducer in coproducers.items():
        own = [r for r in rates if r.product_id == product_id]
        if own:
            rates = [replace(r, coproducer_rate=coproducer.rate) if r.product_id == product_id else r for r in rates]
        else:
            rates.append(replace(default, product_id=product_id, coproducer_rate=coproducer.rate))
    return Catalogue(tenant_id, tuple(with_bumps), coupons, affiliates, tuple(rates), coproducers, plans)


_COPRODUCER_NAMES = ("Studio Aurora Ltda", "Carla Menezes", "Instituto Saber Mais", "Rafael Dutra", "Lumen Edu Ltda")
_COPRODUCER_RATES = ("0.10", "0.15", "0.20", "0.25", "0.30")
_PLAN_NAMES = ("Clube do Assinante", "Mentoria Contínua", "Comunidade VIP", "Academia Premium")
_PLAN_PRICES = ("19.90", "29.90", "39.90", "49.90", "79.90", "97.00")


def _sales_extras(
    seed: int, tenant_id: str, products: tuple[Product, ...]
) -> tuple[dict[str, Coproducer], tuple[Plan, ...]]:
    """The catalogue's co-producers and subscription plans, from stream ("checkout", tenant, "sales"):
    a stream of their own, so the catalogue the gateways drew before them is unchanged."""
    rng = stream(seed, "checkout", tenant_id, "sales")
    tag = tenant_id.rsplit("-", 1)[-1]
    coproducers: dict[str, Coproducer] = {}
    for product in products:
        if rng.random() < 0.4:
            i = len(coproducers) + 1
            name = rng.choice(_COPRODUCER_NAMES)
            document = new_cnpj(rng) if name.endswith("Ltda") else new_cpf(rng)
            coproducers[product.product_id] = Coproducer(
                f"cop_{tag}_{i}", name, document, Decimal(rng.choice(_COPRODUCER_RATES))
            )
    plans = []
    for i, name in enumerate(rng.sample(_PLAN_NAMES, rng.randint(1, 2))):
        period = rng.choice(tuple(PERIODS))
        product_id = f"prd_{tag}_s{i + 1}"
        plans.append(Plan(f"pln_{tag}_s{i + 1}", product_id, name, Decimal(rng.choice(_PLAN_PRICES)), period))
    return coproducers, tuple(plans)


@dataclass(frozen=True, slots=True)
class CheckoutOrder:
    """One order of the checkout, paid at one gateway: what the buyer pays and how."""

    order_id: str
    tenant_id: str
    store: Store
    product_id: str
    offer_code: str
    bump_product_id: str | None
    coupon_code: str | None
    affiliate_id: str | None
    gross: Decimal
    method: str  # pix | card | boleto
    installments: int  # 1 unless card
    created_at: datetime  # tz-aware (UTC)

    @property
    def order_date(self) -> date:
        return self.created_at.astimezone(SAO_PAULO).date()


def draw_order(
    rng: random.Random,
    catalogue: Catalogue,
    store: Store,
    day: date,
    methods: Sequence[str],
    *,
    affiliate_share: float,
    bump_rate: float,
    coupon_rate: float,
) -> CheckoutOrder:
    """One order on `day` (São Paulo), paid by one of `methods`; the gross to the cent."""
    product = rng.choice(catalogue.products)
    offer = rng.choice(product.offers)
    gross = offer.price
    bump_id = None
    if product.bump is not None and rng.random() < bump_rate:
        bump_id, bump_price = product.bump
        gross += bump_price
    coupon = None
    if rng.random() < coupon_rate:
        coupon = rng.choice(catalogue.coupons)
        gross = gross - q(gross * coupon.percent_off / 100)
    affiliate = rng.choice(catalogue.affiliates) if rng.random() < affiliate_share else None
    method = rng.choice(tuple(methods))
    installments = 1
    if method == "card":
        installments = rng.choices(tuple(INSTALLMENT_WEIGHTS), weights=tuple(INSTALLMENT_WEIGHTS.values()))[0]
    seconds = rng.randrange(7 * 3600, 23 * 3600)  # buyers shop 07:00–23:00 São Paulo time
    created = datetime.combine(day, time(), SAO_PAULO) + timedelta(seconds=seconds)
    order_id = f"ord_{rng.getrandbits(64):016x}"
    return CheckoutOrder(
        order_id,
        catalogue.tenant_id,
        store,
        product.product_id,
        offer.code,
        bump_id,
        coupon.code if coupon else None,
        affiliate,
        q(gross),
        method,
        installments,
        created.astimezone(UTC),
    )
