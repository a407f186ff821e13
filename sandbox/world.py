"""The sandbox world: tenants, iFood stores, orders, financial events, payouts and bank statements.

`World(WorldConfig(...))` is a pure function of the config: the same knobs give a byte-identical
world (ids, amounts, credentials), because every random draw comes from a `random.Random` seeded
with the seed plus a label naming what it generates. Labels keep the streams independent, so e.g.
more bank noise does not reshuffle the orders.

The story and the ground-truth rules are the contract in `docs/sandbox-world.md`; this module
generates the facts (what iFood sold and booked, what the bank received and when), and
`sandbox.truth` derives each order's status from those facts alone.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sandbox.bank import BankLedger, Counterparties, PlannedCredit, build_ledger, make_counterparties
from sandbox.ids import digits_only, new_cnpj, secret, uuid4
from sandbox.money import from_cents, q
from sandbox.truth import GRACE_DAYS, TOLERANCE, ground_truth

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
IFOOD_CNPJ = "14.380.200/0001-21"
IFOOD_LEGAL_NAME = "IFOOD.COM AGENCIA DE RESTAURANTES ONLINE S.A."

STATUSES = ("reconciled", "awaiting_settlement", "sales_only", "divergent", "cancelled")
DIVERGENT_REASONS = ("value_mismatch", "late_payment", "payment_missing")
# Below these sizes the quota floors (at least one of each status / reason) are not applied:
# forcing a divergent batch into a world of five batches would make it mostly divergent.
MIN_BATCHES_FOR_COVERAGE = 20 * len(DIVERGENT_REASONS)
MIN_ORDERS_FOR_COVERAGE = 20
MIN_BATCHES_FOR_VARIANTS = 20
RECONCILED_VARIANT_RATE = 0.05  # share of batches paid a few cents off / a day or three late (still reconciled)

OrderKind = Literal["regular", "sales_only", "cancelled"]
Fate = Literal["on_time", "within_tolerance", "slightly_late", "wrong_amount", "late", "never_paid"]


@dataclass(frozen=True)
class WorldConfig:
    """The knobs of the world (see the table in docs/sandbox-world.md). Validated on creation."""

    seed: int = 42
    tenants: int = 2
    stores_per_tenant: int = 2
    start: date = date(2026, 10, 1)
    days: int = 30
    orders_per_day: int = 40
    payout_term_days: int = 3
    sales_only_rate: float = 0.03
    cancelled_rate: float = 0.01
    divergent_rate: float = 0.01
    bank_noise_per_day: int = 4

    def __post_init__(self) -> None:
        def whole(name: str, low: int, high: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low:,} and {high:,}, got {value:,}")

        def rate(name: str) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
                raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")

        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be a whole number, got {self.seed!r}")
        whole("tenants", 1, 999)
        whole("stores_per_tenant", 1, 999)
        if isinstance(self.start, datetime) or not isinstance(self.start, date):
            raise ValueError(f"start must be a date (YYYY-MM-DD), got {self.start!r}")
        whole("days", 1, 3660)
        whole("orders_per_day", 0, 100_000)
        whole("payout_term_days", 0, 365)
        whole("bank_noise_per_day", 0, 10_000_000)
        for name in ("sales_only_rate", "cancelled_rate", "divergent_rate"):
            rate(name)
        if self.sales_only_rate + self.cancelled_rate > 1:
            raise ValueError("sales_only_rate + cancelled_rate must not exceed 1")
        if not date(1971, 1, 1) <= self.start <= date(9000, 1, 1):
            raise ValueError(f"start must be between 1971-01-01 and 9000-01-01, got {self.start}")

    @property
    def as_of(self) -> date:
        """ "Today" for the world: the day after the last business day."""
        return self.start + timedelta(days=self.days)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        return data

    @classmethod
    def knob_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True, slots=True)
class BankConnector:
    """The (fictitious-id) Pluggy connector of a store's bank."""

    id: int
    name: str
    routing_number: str
    primary_color: str
    institution_url: str
    sends_payment_data: bool  # some banks send no payer data; then only the description names iFood


BANK_CONNECTORS = (
    BankConnector(601, "Itaú Empresas", "341", "EC7000", "https://www.itau.com.br/empresas", True),
    BankConnector(602, "Bradesco Empresas", "237", "CC092F", "https://www.bradesco.com.br/empresas", True),
    BankConnector(603, "Banco do Brasil Empresas", "001", "FAE128", "https://www.bb.com.br/empresas", False),
    BankConnector(604, "Santander Empresas", "033", "EC0000", "https://www.santander.com.br/empresas", True),
)


@dataclass(frozen=True, slots=True)
class Store:
    """One iFood merchant of a tenant, with its own CNPJ and its own bank account (one Pluggy item)."""

    tenant_id: str
    merchant_id: str
    short_id: str
    name: str
    legal_name: str
    cnpj: str  # formatted NN.NNN.NNN/NNNN-NN
    commission_rate: Decimal
    item_id: str
    account_id: str
    connector: BankConnector
    branch_number: str
    account_number: str
    opening_balance: Decimal
    created_at: datetime

    @property
    def cnpj_digits(self) -> str:
        return digits_only(self.cnpj)


@dataclass(frozen=True, slots=True)
class Tenant:
    """A customer of Conciliador, with its own Pluggy and iFood application credentials."""

    tenant_id: str
    pluggy_client_id: str
    pluggy_client_secret: str
    ifood_client_id: str
    ifood_client_secret: str
    stores: tuple[Store, ...]


@dataclass(frozen=True, slots=True)
class FinancialEvent:
    """One entry of iFood's financial ledger for an order (amount signed, merchant's point of view)."""

    merchant_id: str
    order_id: str
    name: str
    description: str
    trigger: str
    date_time: datetime  # UTC
    amount: Decimal
    base_value: Decimal | None
    fee_percentage: Decimal | None
    business_date: date
    expected_date: date
    payment_method: str
    card_brand: str | None

    @property
    def local_date(self) -> date:
        return self.date_time.astimezone(SAO_PAULO).date()


@dataclass(frozen=True, slots=True)
class StatusChange:
    """An entry of a sale's `orderStatusHistory` / `orderEvents`."""

    full_code: str
    code: str
    at: datetime  # UTC
    event_id: str


@dataclass(frozen=True, slots=True)
class Order:
    """An iFood sale, with its financial events (none for a sales-only order)."""

    tenant_id: str
    merchant_id: str
    order_id: str
    short_id: str
    business_date: date
    created_at: datetime  # UTC
    bag: Decimal
    delivery_fee: Decimal
    service_fee: Decimal
    benefit: Decimal  # iFood-sponsored discount; the customer paid gross - benefit, iFood subsidises it
    payment_method: str
    card_brand: str | None
    kind: OrderKind
    expected_date: date
    history: tuple[StatusChange, ...]
    events: tuple[FinancialEvent, ...]

    @property
    def gross(self) -> Decimal:
        return self.bag + self.delivery_fee + self.service_fee

    @property
    def paid_by_customer(self) -> Decimal:
        return self.gross - self.benefit

    @property
    def net(self) -> Decimal:
        """Expected net: the sum of the order's event values (0 for a cancelled order)."""
        return sum((e.amount for e in self.events), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class PayoutBatch:
    """The non-cancelled orders with events of one store and one expected date, paid by one credit.

    `fate` is how the generator decided to pay it; `credit_date`/`credit_amount` are the resulting
    facts (None when iFood never pays), and `credit_transaction_id` is the bank transaction when
    the credit is dated before `as_of` (visible in the statement).
    """

    tenant_id: str
    merchant_id: str
    account_id: str
    expected_date: date
    order_ids: tuple[str, ...]
    total: Decimal
    fate: Fate
    credit_date: date | None
    credit_amount: Decimal | None
    credit_transaction_id: str | None


_STORE_WORDS = (
    (
        "Cantina",
        "Sushi",
        "Burger",
        "Pizzaria",
        "Padaria",
        "Açaí",
        "Churrascaria",
        "Pastelaria",
        "Tapiocaria",
        "Temakeria",
        "Sorveteria",
        "Marmitaria",
    ),
    (
        "Bella Napoli",
        "do Bairro",
        "Kento",
        "Central",
        "da Vila",
        "Sabor Paulista",
        "Brasa Viva",
        "Dona Benta",
        "Mar Azul",
        "Estação",
        "Bom Garfo",
        "Jardim",
    ),
)
_PAYMENT_METHODS = (
    ("CREDIT", ("VISA", "MASTERCARD", "ELO")),
    ("CREDIT", ("VISA", "MASTERCARD")),
    ("CREDIT", ("MASTERCARD",)),
    ("PIX", (None,)),
    ("PIX", (None,)),
    ("DEBIT", ("VISA", "ELO")),
    ("MEAL_VOUCHER", ("VR", "ALELO", "TICKET")),
    ("MEAL_VOUCHER", ("SODEXO",)),
)
_DELIVERY_FEES = (0, 499, 599, 799, 990)
_COMMISSION_RATES = (Decimal("0.12"), Decimal("0.23"))  # iFood basic plan / delivery plan
TRANSACTION_FEE_RATE = Decimal("0.032")
# Reversal spellings: each says "cancel" or "estorno" in its name or description, in some case.
CANCELLATION_SPELLINGS = (
    ("CANCELLATION", "CANCELAMENTO_TOTAL"),
    ("ORDER_REVERSAL", "ESTORNO TOTAL"),
    ("REFUND", "Cancelamento parcial"),
    ("Cancellation", "pedido cancelado pelo cliente"),
    ("ADJUSTMENT", "estorno do pedido"),
    ("order_cancellation", "REVERSAL"),
)


def _rng(seed: int, *labels: object) -> random.Random:
    """An independent, reproducible stream for one part of the world (str seeds are hashed with SHA-512)."""
    return random.Random("|".join(map(str, (seed, *labels))))


@dataclass(slots=True)
class _Draft:
    """An order before its fate (regular / sales-only / cancelled) is known."""

    store: Store
    order_id: str
    short_id: str
    business_date: date
    created_at: datetime
    concluded_at: datetime
    day_end: datetime
    bag: int
    delivery_fee: int
    service_fee: int
    benefit: int
    payment_method: str
    card_brand: str | None
    history: list[StatusChange]


class World:
    """Everything the fake providers serve and the ground truth they imply, built from a `WorldConfig`.

    Attributes: `config`, `as_of`, `tenants` (each with its `stores`), `stores`, `orders` (by store,
    then creation time; each with its `events`), `batches` (payout batches with their credit facts),
    `ledgers` (bank statement per Pluggy account id), and lookups `store_by_merchant`,
    `store_by_item`, `store_by_account`, `tenant_by_id`, `orders_by_merchant`, `events_by_merchant`.
    """

    def __init__(self, config: WorldConfig | None = None) -> None:
        self.config = config or WorldConfig()
        self.as_of: date = self.config.as_of
        self.counterparties: Counterparties = make_counterparties(_rng(self.config.seed, "counterparties"))
        self.tenants: tuple[Tenant, ...] = self._make_tenants()
        self.stores: tuple[Store, ...] = tuple(s for t in self.tenants for s in t.stores)
        drafts = [self._draft_orders(store, i) for i, store in enumerate(self.stores)]
        self.orders: tuple[Order, ...] = self._finish_orders(drafts)
        self.batches: tuple[PayoutBatch, ...]
        self.ledgers: dict[str, BankLedger]
        self.batches, self.ledgers = self._pay_batches()

        self.store_by_merchant = {s.merchant_id: s for s in self.stores}
        self.store_by_item = {s.item_id: s for s in self.stores}
        self.store_by_account = {s.account_id: s for s in self.stores}
        self.tenant_by_id = {t.tenant_id: t for t in self.tenants}
        self.orders_by_merchant: dict[str, list[Order]] = {s.merchant_id: [] for s in self.stores}
        self.events_by_merchant: dict[str, list[FinancialEvent]] = {s.merchant_id: [] for s in self.stores}
        for order in self.orders:
            self.orders_by_merchant[order.merchant_id].append(order)
            self.events_by_merchant[order.merchant_id].extend(order.events)
        for events in self.events_by_merchant.values():
            events.sort(key=lambda e: e.date_time)  # stable: an order's events keep their booking order

    # ----------------------------------------------------------------------------------- parties

    def _make_tenants(self) -> tuple[Tenant, ...]:
        cfg = self.config
        rng = _rng(cfg.seed, "parties")
        tenants = []
        for t in range(cfg.tenants):
            tenant_id = f"tenant-{t + 1:03d}"
            pluggy_id, pluggy_secret = uuid4(rng), secret(rng)
            ifood_id, ifood_secret = uuid4(rng), secret(rng)
            stores = []
            for s in range(cfg.stores_per_tenant):
                name = f"{rng.choice(_STORE_WORDS[0])} {rng.choice(_STORE_WORDS[1])}"
                stores.append(
                    Store(
                        tenant_id=tenant_id,
                        merchant_id=uuid4(rng),
                        short_id=str(rng.randrange(100_000, 999_999)),
                        name=f"{name} {t + 1}.{s + 1}",
                        legal_name=f"{digits_only(uuid4(rng))[:4]} {name.upper()} COMERCIO DE ALIMENTOS LTDA",
                        cnpj=new_cnpj(rng),
                        commission_rate=rng.choice(_COMMISSION_RATES),
                        item_id=uuid4(rng),
                        account_id=uuid4(rng),
                        # Round-robin, so every bank (with and without payer data) appears once there are 4 stores.
                        connector=BANK_CONNECTORS[(t * cfg.stores_per_tenant + s) % len(BANK_CONNECTORS)],
                        branch_number=f"{rng.randrange(1, 9999):04d}",
                        account_number=f"{rng.randrange(10_000, 99_999)}-{rng.randrange(10)}",
                        opening_balance=from_cents(rng.randrange(500_000, 6_000_000)),
                        created_at=datetime.combine(
                            cfg.start - timedelta(days=rng.randrange(30, 400)), time(12, rng.randrange(60)), UTC
                        ),
                    )
                )
            tenants.append(Tenant(tenant_id, pluggy_id, pluggy_secret, ifood_id, ifood_secret, tuple(stores)))
        return tuple(tenants)

    # ------------------------------------------------------------------------------------ orders

    def _draft_orders(self, store: Store, store_index: int) -> list[_Draft]:
        cfg = self.config
        rng = _rng(cfg.seed, "orders", store_index)
        drafts = []
        for day_index in range(cfg.days):
            business_date = cfg.start + timedelta(days=day_index)
            midnight = datetime.combine(business_date, time(), SAO_PAULO)
            day_end = (midnight + timedelta(days=1, seconds=-1)).astimezone(UTC)
            n = round(cfg.orders_per_day * rng.uniform(0.75, 1.25)) if cfg.orders_per_day else 0
            for ms in sorted(rng.randrange(86_400_000) for _ in range(n)):
                created = (midnight + timedelta(milliseconds=ms)).astimezone(UTC)
                latest = day_end - timedelta(minutes=2)
                concluded = min(created + timedelta(minutes=rng.randint(25, 70)), max(latest, created))
                confirmed = created + (concluded - created) * rng.uniform(0.02, 0.1)
                dispatched = created + (concluded - created) * rng.uniform(0.3, 0.7)
                bag = rng.randrange(1990, 15001)
                method, brands = rng.choice(_PAYMENT_METHODS)
                benefit = rng.choice((500, 1000, 1500)) if rng.random() < 0.12 else 0
                drafts.append(
                    _Draft(
                        store=store,
                        order_id=uuid4(rng),
                        short_id=f"{rng.randrange(10_000):04d}",
                        business_date=business_date,
                        created_at=created,
                        concluded_at=concluded,
                        day_end=day_end,
                        bag=bag,
                        delivery_fee=rng.choice(_DELIVERY_FEES),
                        service_fee=rng.choice((0, 0, 0, 99)),
                        benefit=min(benefit, bag // 2),
                        payment_method=method,
                        card_brand=rng.choice(brands),
                        history=[
                            StatusChange(full, code, at, uuid4(rng))
                            for full, code, at in (
                                ("PLACED", "PLC", created),
                                ("CONFIRMED", "CFM", confirmed),
                                ("DISPATCHED", "DSP", dispatched),
                                ("CONCLUDED", "CON", concluded),
                            )
                        ],
                    )
                )
        return drafts

    def _finish_orders(self, drafts_per_store: list[list[_Draft]]) -> tuple[Order, ...]:
        """Pick the sales-only and cancelled orders by quota, then book every order's events."""
        cfg = self.config
        drafts = [d for per_store in drafts_per_store for d in per_store]
        total = len(drafts)
        n_sales_only = _quota(cfg.sales_only_rate, total, MIN_ORDERS_FOR_COVERAGE)
        n_cancelled = _quota(cfg.cancelled_rate, total, MIN_ORDERS_FOR_COVERAGE)
        n_cancelled = min(n_cancelled, total - n_sales_only)
        pick = _rng(cfg.seed, "order-kinds")
        chosen = pick.sample(range(total), n_sales_only + n_cancelled)
        kinds: dict[int, OrderKind] = {i: "sales_only" for i in chosen[:n_sales_only]}
        kinds.update({i: "cancelled" for i in chosen[n_sales_only:]})
        spellings = list(CANCELLATION_SPELLINGS)
        pick.shuffle(spellings)

        orders = []
        cancelled_seen = 0
        event_rng = _rng(cfg.seed, "events")
        for i, draft in enumerate(drafts):
            kind = kinds.get(i, "regular")
            spelling = None
            if kind == "cancelled":
                spelling = spellings[cancelled_seen % len(spellings)]
                cancelled_seen += 1
            orders.append(self._book(draft, kind, spelling, event_rng))
        return tuple(orders)

    def _book(self, d: _Draft, kind: OrderKind, spelling: tuple[str, str] | None, rng: random.Random) -> Order:
        store = d.store
        expected = d.business_date + timedelta(days=self.config.payout_term_days)
        bag, delivery, service, benefit = (from_cents(c) for c in (d.bag, d.delivery_fee, d.service_fee, d.benefit))
        paid = bag + delivery + service - benefit
        history = list(d.history)
        events: list[FinancialEvent] = []

        def book(
            name: str,
            description: str,
            trigger: str,
            at: datetime,
            amount: Decimal,
            base: Decimal | None = None,
            pct: Decimal | None = None,
        ) -> None:
            events.append(
                FinancialEvent(
                    merchant_id=store.merchant_id,
                    order_id=d.order_id,
                    name=name,
                    description=description,
                    trigger=trigger,
                    date_time=at,
                    amount=q(amount),
                    base_value=base,
                    fee_percentage=pct,
                    business_date=d.business_date,
                    expected_date=expected,
                    payment_method=d.payment_method,
                    card_brand=d.card_brand,
                )
            )

        if kind != "sales_only":
            at = d.concluded_at
            book("ORDER_PAYMENT", "IN_APP_PAYMENT_CREDIT", "SALE_CONCLUDED", at, paid)
            if benefit:
                book("IFOOD_SUBSIDY", "BENEFIT_IFOOD", "SALE_CONCLUDED", at, benefit)
            book(
                "ORDER_COMMISSION",
                "COMMISSION_ON_BAG",
                "SALE_CONCLUDED",
                at,
                -q(bag * store.commission_rate),
                bag,
                store.commission_rate * 100,
            )
            book(
                "TRANSACTION_FEE",
                "ONLINE_PAYMENT_FEE",
                "SALE_CONCLUDED",
                at,
                -q(paid * TRANSACTION_FEE_RATE),
                paid,
                TRANSACTION_FEE_RATE * 100,
            )
            if service:
                book("SERVICE_FEE", "CUSTOMER_SERVICE_FEE", "SALE_CONCLUDED", at, -service, service, Decimal(100))
        if kind == "cancelled" and spelling is not None:
            cancelled_at = min(d.concluded_at + timedelta(minutes=rng.randint(10, 360)), d.day_end)
            net = sum((e.amount for e in events), Decimal("0.00"))
            book(spelling[0], spelling[1], "SALE_CANCELLED", cancelled_at, -net)
            history.append(StatusChange("CANCELLED", "CAN", cancelled_at, uuid4(rng)))

        return Order(
            tenant_id=store.tenant_id,
            merchant_id=store.merchant_id,
            order_id=d.order_id,
            short_id=d.short_id,
            business_date=d.business_date,
            created_at=d.created_at,
            bag=bag,
            delivery_fee=delivery,
            service_fee=service,
            benefit=benefit,
            payment_method=d.payment_method,
            card_brand=d.card_brand,
            kind=kind,
            expected_date=expected,
            history=tuple(history),
            events=tuple(events),
        )

    # ----------------------------------------------------------------------------------- payouts

    def _pay_batches(self) -> tuple[tuple[PayoutBatch, ...], dict[str, BankLedger]]:
        """Group orders into batches, decide each batch's fate by quota, post the credits to the bank."""
        cfg = self.config
        grouped: dict[tuple[str, date], list[Order]] = {}
        for order in self.orders:
            if order.kind == "regular":
                grouped.setdefault((order.merchant_id, order.expected_date), []).append(order)
        store_rank = {s.merchant_id: i for i, s in enumerate(self.stores)}
        keys = sorted(grouped, key=lambda k: (store_rank[k[0]], k[1]))
        fates = _assign_fates(keys, self.as_of, cfg.divergent_rate, _rng(cfg.seed, "fates"))

        plans: dict[tuple[str, date], tuple[Fate, date | None, Decimal | None]] = {}
        amounts = _rng(cfg.seed, "payout-amounts")
        for key in keys:
            fate, delay = fates[key]
            total = sum((o.net for o in grouped[key]), Decimal("0.00"))
            plans[key] = (fate, *_credit_for(fate, delay, key[1], total, amounts))

        store_by_merchant = {s.merchant_id: s for s in self.stores}
        ledgers: dict[str, BankLedger] = {}
        posted: dict[tuple[str, date], str] = {}
        for index, store in enumerate(self.stores):
            credits = [
                PlannedCredit(merchant, expected, credit_date, int(amount * 100))
                for (merchant, expected), (_, credit_date, amount) in plans.items()
                if merchant == store.merchant_id and credit_date is not None and amount is not None
            ]
            ledger, ids = build_ledger(
                _rng(cfg.seed, "bank", index),
                account_id=store.account_id,
                start=cfg.start,
                days=cfg.days,
                noise_per_day=cfg.bank_noise_per_day,
                credits=credits,
                counterparties=self.counterparties,
                opening_balance_cents=int(store.opening_balance * 100),
            )
            ledgers[store.account_id] = ledger
            posted.update(ids)

        batches = []
        for key in keys:
            merchant_id, expected = key
            fate, credit_date, amount = plans[key]
            store = store_by_merchant[merchant_id]
            orders = grouped[key]
            batches.append(
                PayoutBatch(
                    tenant_id=store.tenant_id,
                    merchant_id=merchant_id,
                    account_id=store.account_id,
                    expected_date=expected,
                    order_ids=tuple(o.order_id for o in orders),
                    total=sum((o.net for o in orders), Decimal("0.00")),
                    fate=fate,
                    credit_date=credit_date,
                    credit_amount=amount,
                    credit_transaction_id=posted.get(key),
                )
            )
        return tuple(batches), ledgers

    # ------------------------------------------------------------------------------------ views

    def financial_events(self) -> Iterator[FinancialEvent]:
        for order in self.orders:
            yield from order.events

    @cached_property
    def bank_transaction_count(self) -> int:
        return sum(len(ledger) for ledger in self.ledgers.values())

    def ground_truth(self) -> list[dict[str, Any]]:
        """One row per order: tenant_id, merchant_id, order_id, status, reason (docs/sandbox-world.md rules)."""
        return [dict(row) for row in self._truth]

    @cached_property
    def _truth(self) -> tuple[dict[str, Any], ...]:
        return tuple(ground_truth(self))

    def status_counts(self) -> dict[str, int]:
        """Orders per status, every status present (zero when absent), in the doc's order."""
        counts = dict.fromkeys(STATUSES, 0)
        for row in self._truth:
            counts[row["status"]] += 1
        return counts

    def reason_counts(self) -> dict[tuple[str, str | None], int]:
        """Orders per (status, reason) pair present in the world."""
        counts: dict[tuple[str, str | None], int] = {}
        for row in self._truth:
            key = (row["status"], row["reason"])
            counts[key] = counts.get(key, 0) + 1
        return counts

    def credentials(self, base_url: str) -> dict[str, Any]:
        """What a tenant would configure: the fake APIs' base URLs, client credentials and resource ids."""
        root = base_url.rstrip("/")
        return {
            "base_urls": {"pluggy": f"{root}/pluggy", "ifood": f"{root}/ifood"},
            "tenants": [
                {
                    "tenant_id": t.tenant_id,
                    "pluggy": {
                        "client_id": t.pluggy_client_id,
                        "client_secret": t.pluggy_client_secret,
                        "item_ids": [s.item_id for s in t.stores],
                        "account_ids": [s.account_id for s in t.stores],
                    },
                    "ifood": {
                        "client_id": t.ifood_client_id,
                        "client_secret": t.ifood_client_secret,
                        "merchant_ids": [s.merchant_id for s in t.stores],
                    },
                }
                for t in self.tenants
            ],
        }

    def digest(self) -> str:
        """SHA-256 over every generated fact, to check that a config really yields the same world."""
        h = hashlib.sha256()
        h.update(json.dumps(self.credentials(""), sort_keys=True).encode())
        for store in self.stores:
            h.update(repr(store).encode())
        for order in self.orders:
            h.update(repr(order).encode())
        for batch in self.batches:
            h.update(repr(batch).encode())
        for account_id in sorted(self.ledgers):
            ledger = self.ledgers[account_id]
            h.update(account_id.encode())
            h.update(b"".join(k.to_bytes(24, "big") for k in ledger.keys))
            for column in (ledger.amount, ledger.kind, ledger.party, ledger.created, ledger.balance):
                h.update(bytes(column))
        return h.hexdigest()


def _quota(rate: float, population: int, min_population: int) -> int:
    """round(rate × population), but at least one when the rate is positive and the population large enough."""
    n = round(rate * population)
    if rate > 0 and n == 0 and population >= min_population:
        n = 1
    return min(n, population)


def _assign_fates(
    keys: list[tuple[str, date]], as_of: date, divergent_rate: float, rng: random.Random
) -> dict[tuple[str, date], tuple[Fate, int]]:
    """Decide how each batch gets paid: (fate, days after the expected date the credit is dated).

    Divergent fates go only to batches where the outcome is visible by `as_of` (a late credit
    must post before `as_of`, a missing one must be past the grace period), so a quota really
    produces its divergent reason. With at least MIN_BATCHES_FOR_COVERAGE batches, each of the
    three reasons gets one batch even when the rate would round to fewer.
    """
    n = len(keys)
    room = {k: (as_of - k[1]).days for k in keys}  # a credit dated expected + d is visible iff d < room
    fates: dict[tuple[str, date], tuple[Fate, int]] = {}
    free = list(keys)

    def take(eligible: Callable[[int], bool]) -> tuple[str, date] | None:
        candidates = [k for k in free if eligible(room[k])]
        if not candidates:
            return None
        chosen = rng.choice(candidates)
        free.remove(chosen)
        return chosen

    # (fate, eligible room, delay draw), most constrained first.
    divergent: list[tuple[Fate, Callable[[int], bool], Callable[[int], int]]] = [
        ("late", lambda r: r > GRACE_DAYS + 1, lambda r: rng.randint(GRACE_DAYS + 1, min(GRACE_DAYS + 3, r - 1))),
        ("never_paid", lambda r: r > GRACE_DAYS, lambda r: 0),
        ("wrong_amount", lambda r: r >= 1, lambda r: 0),
    ]
    wanted = round(divergent_rate * n)
    if divergent_rate > 0 and n >= MIN_BATCHES_FOR_COVERAGE:
        wanted = max(wanted, len(divergent))
        order = list(divergent)
    else:
        order = []
    while len(order) < wanted:
        order.append(rng.choice(divergent))
    for fate, eligible, delay in order[:wanted]:
        chosen = take(eligible)
        if chosen is not None:
            fates[chosen] = (fate, delay(room[chosen]))

    variants = round(RECONCILED_VARIANT_RATE * n)
    if n >= MIN_BATCHES_FOR_VARIANTS:
        variants = max(variants, 1)
    for _ in range(variants):
        chosen = take(lambda r: r >= 1)
        if chosen is not None:
            fates[chosen] = ("within_tolerance", 0)
        chosen = take(lambda r: r >= 2)
        if chosen is not None:
            fates[chosen] = ("slightly_late", rng.randint(1, min(GRACE_DAYS, room[chosen] - 1)))
    for k in free:
        fates[k] = ("on_time", 0)
    return fates


def _credit_for(
    fate: Fate, delay: int, expected: date, total: Decimal, rng: random.Random
) -> tuple[date | None, Decimal | None]:
    """The bank credit a fate produces: (date, amount), or (None, None) when iFood never pays."""
    if fate == "never_paid":
        return None, None
    cents = int(total * 100)
    if fate == "within_tolerance":
        off = rng.randint(1, int(TOLERANCE * 100))
        cents = cents + off if rng.random() < 0.5 or cents - off < 1 else cents - off
    elif fate == "wrong_amount":
        off = rng.randint(50, 2_500)
        cents = cents + off if rng.random() < 0.5 or cents - off < 1 else cents - off
    return expected + timedelta(days=delay), from_cents(cents)
