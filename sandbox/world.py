"""The sandbox world: tenants, iFood stores, orders, financial events, payouts and bank statements.

`World(WorldConfig(...))` is a pure function of the config: the same knobs give a byte-identical
world (ids, amounts, credentials), because every random draw comes from a `random.Random` seeded
with the seed plus a label naming what it generates. Labels keep the streams independent, so e.g.
more bank noise does not reshuffle the orders.

The story is told in `docs/sandbox-world.md`, the ground-truth rules are the contract in
`docs/reconciliation-rules.md`; this module
generates the facts (what iFood sold and booked, what the bank received and when), and
`sandbox.truth` derives each order's status from those facts alone.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sandbox.bank import BankLedger, Counterparties, PlannedCredit, build_ledger, make_counterparties
from sandbox.calendar import add_business_days, roll_forward
from sandbox.ids import digits_only, new_cnpj, secret, uuid4
from sandbox.money import from_cents, q
from sandbox.truth import GRACE_DAYS, MISSING_FROM_CONCILIATION_DAYS, RULES, TOLERANCE, ground_truth

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
IFOOD_CNPJ = "14.380.200/0001-21"
IFOOD_LEGAL_NAME = "IFOOD.COM AGENCIA DE RESTAURANTES ONLINE S.A."

STATUSES = ("reconciled", "awaiting_settlement", "sales_only", "divergent", "cancelled")
REASONS = RULES  # every (status, reason) pair, in the precedence order of docs/reconciliation-rules.md
DIVERGENT_REASONS = tuple(reason for status, reason in RULES if status == "divergent")
PAYOUT_SCHEDULES = ("daily", "weekly")
# Below these sizes the quota floors (at least one of each status / reason) are not applied:
# forcing a divergent batch into a world of five batches would make it mostly divergent.
MIN_BATCHES_FOR_COVERAGE = 40
MIN_ORDERS_FOR_COVERAGE = 20
MIN_BATCHES_FOR_VARIANTS = 20
RECONCILED_VARIANT_RATE = 0.05  # share of batches paid a few cents off / a day or three late (still reconciled)
ANTICIPATION_FEE_RATES = tuple(Decimal(r) for r in ("0.0199", "0.0249", "0.0299", "0.0349", "0.0399"))
WEEKLY_PAYOUT_WEEKDAY_OFFSET = 9  # weekly schedule: a Monday–Sunday week is paid on the Wednesday after it
VERY_LATE_DAYS = 14  # business days after E an unlisted batch's credit arrives (fate very_late) ...
VERY_LATE_MIN_DAYS = 10  # ... or fewer, down to this, when as_of comes first (10 business days ≥ 14 calendar days)
# Unlisted batches may have these fates: one credit at most, so the amount and expected-date rules can find it.
UNLISTED_FATES = ("on_time", "within_tolerance", "slightly_late", "late", "wrong_amount", "never_paid")

OrderKind = Literal["regular", "sales_only", "cancelled", "refunded", "orphan"]
Fate = Literal[
    "very_late",
    "on_time",
    "within_tolerance",
    "slightly_late",
    "wrong_amount",
    "late",
    "never_paid",
    "anticipated",
    "partial",
    "partial_late",
    "partial_pending",
]


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
    payout_schedule: str = "daily"
    sales_only_rate: float = 0.03
    cancelled_rate: float = 0.01
    divergent_rate: float = 0.01
    anticipation_rate: float = 0.03
    partial_payment_rate: float = 0.03
    refund_after_payment_rate: float = 0.005
    orphan_event_rate: float = 0.003
    unlisted_settlement_rate: float = 0.02
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
        if self.payout_schedule not in PAYOUT_SCHEDULES:
            raise ValueError(
                f"payout_schedule must be one of {', '.join(PAYOUT_SCHEDULES)}, got {self.payout_schedule!r}"
            )
        for name in (
            "sales_only_rate",
            "cancelled_rate",
            "divergent_rate",
            "anticipation_rate",
            "partial_payment_rate",
            "refund_after_payment_rate",
            "orphan_event_rate",
            "unlisted_settlement_rate",
        ):
            rate(name)
        order_rates = (
            self.sales_only_rate,
            self.cancelled_rate,
            self.refund_after_payment_rate,
            self.orphan_event_rate,
        )
        if sum(order_rates) > 1:
            raise ValueError(
                "sales_only_rate + cancelled_rate + refund_after_payment_rate + orphan_event_rate must not exceed 1"
            )
        if self.divergent_rate + self.anticipation_rate + self.partial_payment_rate > 1:
            raise ValueError("divergent_rate + anticipation_rate + partial_payment_rate must not exceed 1")
        if not date(1971, 1, 1) <= self.start <= date(9000, 1, 1):
            raise ValueError(f"start must be between 1971-01-01 and 9000-01-01, got {self.start}")

    @property
    def as_of(self) -> date:
        """ "Today" for the world: the day after the last day with orders."""
        return self.start + timedelta(days=self.days)

    def expected_payment_date(self, sale_day: date) -> date:
        """When iFood schedules the payout of a day's sales (the events' `settlement.expectedDate`).

        Daily: D + `payout_term_days` calendar days, moved forward to a business day. Weekly: the
        Wednesday after the sale's Monday–Sunday week, moved forward to a business day.
        """
        if self.payout_schedule == "weekly":
            monday = sale_day - timedelta(days=sale_day.weekday())
            return roll_forward(monday + timedelta(days=WEEKLY_PAYOUT_WEEKDAY_OFFSET))
        return roll_forward(sale_day + timedelta(days=self.payout_term_days))

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
    anticipation_fee_rate: Decimal  # iFood's fee when the store anticipates a payout (fraction, 4 places)

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
    expected_date: date  # of its non-cancellation events (what it would have been for a sales-only order)
    history: tuple[StatusChange, ...]
    events: tuple[FinancialEvent, ...]

    @property
    def has_sale(self) -> bool:
        """Whether the Sales API returns it (an orphan order has financial events only)."""
        return self.kind != "orphan"

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
class Credit:
    """A bank credit (TED from iFood) paying (part of) a batch; in the statement iff dated before `as_of`."""

    date: date
    amount: Decimal
    transaction_id: str | None  # the bank transaction, when visible


@dataclass(frozen=True, slots=True)
class Anticipation:
    """The store anticipated the batch: one credit of `original_amount - fee` before the expected date."""

    fee_rate: Decimal
    fee: Decimal
    original_amount: Decimal
    amount: Decimal
    date: date


@dataclass(frozen=True, slots=True)
class PayoutBatch:
    """Every event of one store with one expected date (`E`), and the credits that pay it.

    `total` (`T`) sums those events: the orders whose `E` it is, plus reversals of earlier orders
    deducted from it. `first_sale_date`/`last_sale_date` bound the events' business days (the
    settlement's calculation period). `fate` is how the generator decided to pay it; `credits`
    are the resulting facts in payment order (none when iFood never pays; two for a partial
    payment; credits dated on/after `as_of` are planned but not in the bank yet);
    `anticipation` is set when the store anticipated it (its one credit is the anticipation's).
    `settlement_listed` is False when iFood's settlements API does not list the batch (no closing
    item at all, though its report lines still name its `id_saldo`): only the bank shows it paid.
    """

    tenant_id: str
    merchant_id: str
    account_id: str
    expected_date: date
    first_sale_date: date
    last_sale_date: date
    order_ids: tuple[str, ...]
    total: Decimal
    fate: Fate
    credits: tuple[Credit, ...]
    anticipation: Anticipation | None
    settlement_listed: bool = True

    @property
    def deadline(self) -> date:
        return add_business_days(self.expected_date, GRACE_DAYS)

    def visible_credits(self, as_of: date) -> tuple[Credit, ...]:
        return tuple(c for c in self.credits if c.date < as_of)


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


def _local_moment(day: date, rng: random.Random, first_hour: int = 9, last_hour: int = 22) -> datetime:
    """A UTC moment on `day` in São Paulo between `first_hour` and `last_hour` local time."""
    seconds = rng.randrange(first_hour * 3600, last_hour * 3600)
    return (datetime.combine(day, time(), SAO_PAULO) + timedelta(seconds=seconds)).astimezone(UTC)


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
    `store_by_item`, `store_by_account`, `tenant_by_id`, `orders_by_merchant` (every order, orphans
    included), `sales_by_merchant` (what the Sales API returns), `events_by_merchant`.
    """

    def __init__(self, config: WorldConfig | None = None) -> None:
        self.config = config or WorldConfig()
        self.as_of: date = self.config.as_of
        self.counterparties: Counterparties = make_counterparties(_rng(self.config.seed, "counterparties"))
        self.tenants: tuple[Tenant, ...] = self._make_tenants()
        self.stores: tuple[Store, ...] = tuple(s for t in self.tenants for s in t.stores)
        self._expected: dict[date, date] = {}  # sale day → expected payment date
        drafts = [self._draft_orders(store, i) for i, store in enumerate(self.stores)]
        self.orders: tuple[Order, ...] = self._add_refunds(self._finish_orders(drafts))
        self.batches: tuple[PayoutBatch, ...]
        self.ledgers: dict[str, BankLedger]
        self.batches, self.ledgers = self._pay_batches()

        self.store_by_merchant = {s.merchant_id: s for s in self.stores}
        self.store_by_item = {s.item_id: s for s in self.stores}
        self.store_by_account = {s.account_id: s for s in self.stores}
        self.tenant_by_id = {t.tenant_id: t for t in self.tenants}
        self.orders_by_merchant: dict[str, list[Order]] = {s.merchant_id: [] for s in self.stores}
        self.sales_by_merchant: dict[str, list[Order]] = {s.merchant_id: [] for s in self.stores}
        self.events_by_merchant: dict[str, list[FinancialEvent]] = {s.merchant_id: [] for s in self.stores}
        for order in self.orders:
            self.orders_by_merchant[order.merchant_id].append(order)
            if order.has_sale:
                self.sales_by_merchant[order.merchant_id].append(order)
            self.events_by_merchant[order.merchant_id].extend(order.events)
        for events in self.events_by_merchant.values():
            events.sort(key=lambda e: e.date_time)  # stable: an order's events keep their booking order

    # ----------------------------------------------------------------------------------- parties

    def _make_tenants(self) -> tuple[Tenant, ...]:
        cfg = self.config
        rng = _rng(cfg.seed, "parties")
        fee_rng = _rng(cfg.seed, "anticipation-fees")  # its own stream: the parties stay as they were
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
                        anticipation_fee_rate=fee_rng.choice(ANTICIPATION_FEE_RATES),
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

    def _expected_for(self, sale_day: date) -> date:
        expected = self._expected.get(sale_day)
        if expected is None:
            expected = self._expected[sale_day] = self.config.expected_payment_date(sale_day)
        return expected

    def _finish_orders(self, drafts_per_store: list[list[_Draft]]) -> tuple[Order, ...]:
        """Pick the sales-only, cancelled and orphan orders by quota, then book every order's events."""
        cfg = self.config
        drafts = [d for per_store in drafts_per_store for d in per_store]
        total = len(drafts)
        n_sales_only = _quota(cfg.sales_only_rate, total, MIN_ORDERS_FOR_COVERAGE)
        if cfg.sales_only_rate > 0 and total >= MIN_ORDERS_FOR_COVERAGE:
            n_sales_only = min(max(n_sales_only, 2), total)  # one of each sales-only reason
        n_cancelled = _quota(cfg.cancelled_rate, total, MIN_ORDERS_FOR_COVERAGE)
        n_cancelled = min(n_cancelled, total - n_sales_only)
        pick = _rng(cfg.seed, "order-kinds")
        chosen = pick.sample(range(total), n_sales_only + n_cancelled)
        kinds: dict[int, OrderKind] = {i: "sales_only" for i in chosen[:n_sales_only]}
        kinds.update({i: "cancelled" for i in chosen[n_sales_only:]})
        spellings = list(CANCELLATION_SPELLINGS)
        pick.shuffle(spellings)
        if n_sales_only >= 2:
            self._spread_sales_only(drafts, kinds, _rng(cfg.seed, "sales-only-floor"))

        n_orphan = min(_quota(cfg.orphan_event_rate, total, MIN_ORDERS_FOR_COVERAGE), total - len(kinds))
        orphan_pick = _rng(cfg.seed, "orphans")
        while n_orphan:
            i = orphan_pick.randrange(total)
            if i not in kinds:
                kinds[i] = "orphan"
                n_orphan -= 1

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

    def _spread_sales_only(self, drafts: list[_Draft], kinds: dict[int, OrderKind], rng: random.Random) -> None:
        """Make sure sales-only orders fall on both sides of the conciliation deadline.

        A sale whose conciliation deadline (business date + 2 business days) is on or after
        `as_of` is `no_financial_events`, an older one `missing_from_conciliation`; with uniform
        picks the recent ones (the last business day or two) are easily missed in a small world.
        """
        as_of = self.as_of
        recent_days = {
            day
            for day in {d.business_date for d in drafts}
            if add_business_days(day, MISSING_FROM_CONCILIATION_DAYS) >= as_of
        }
        sales_only = sorted(i for i, kind in kinds.items() if kind == "sales_only")
        recent = [i for i in sales_only if drafts[i].business_date in recent_days]
        for want_recent in (True, False):
            if bool(recent) == want_recent or (not want_recent and len(recent) < len(sales_only)):
                continue
            candidates = [
                i for i, d in enumerate(drafts) if (d.business_date in recent_days) == want_recent and i not in kinds
            ]
            if not candidates:
                continue
            give_up = (recent if not want_recent else [i for i in sales_only if i not in recent])[0]
            del kinds[give_up]
            kinds[rng.choice(candidates)] = "sales_only"
            sales_only = sorted(i for i, kind in kinds.items() if kind == "sales_only")
            recent = [i for i in sales_only if drafts[i].business_date in recent_days]

    def _book(self, d: _Draft, kind: OrderKind, spelling: tuple[str, str] | None, rng: random.Random) -> Order:
        store = d.store
        expected = self._expected_for(d.business_date)
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

    def _add_refunds(self, orders: tuple[Order, ...]) -> tuple[Order, ...]:
        """Refunds after payment: a paid order's reversal booked 2–5 days later, deducted from a later batch.

        The reversal (value −net) is dated on the later day and carries that day's expected date,
        so it lowers the later batch's total; that batch must exist and keep other orders (and a
        positive total). The sale stays CONCLUDED: the refund is a financial fact only.
        """
        cfg = self.config
        n_refunds = _quota(cfg.refund_after_payment_rate, len(orders), MIN_ORDERS_FOR_COVERAGE)
        if not n_refunds:
            return orders
        last_day = cfg.start + timedelta(days=cfg.days - 1)
        remaining: dict[tuple[str, date], Decimal] = {}  # payable total left per later batch
        for order in orders:
            if order.kind in ("regular", "orphan"):
                key = (order.merchant_id, order.expected_date)
                remaining[key] = remaining.get(key, Decimal("0.00")) + order.net
        rng = _rng(cfg.seed, "refunds")
        spellings = list(CANCELLATION_SPELLINGS)
        rng.shuffle(spellings)
        result = list(orders)
        done = 0
        for _ in range(50 * n_refunds + 1000):
            if done == n_refunds:
                break
            i = rng.randrange(len(result))
            order = result[i]
            if order.kind != "regular":
                continue
            options = []
            for k in range(2, 6):
                day = order.business_date + timedelta(days=k)
                if day > last_day:
                    break
                later = (order.merchant_id, self._expected_for(day))
                if later[1] > order.expected_date and remaining.get(later, Decimal(0)) - order.net >= 1:
                    options.append((day, later))
            if not options:
                continue
            day, later = rng.choice(options)
            remaining[later] -= order.net
            name, description = spellings[done % len(spellings)]
            reversal = FinancialEvent(
                merchant_id=order.merchant_id,
                order_id=order.order_id,
                name=name,
                description=description,
                trigger="SALE_CANCELLED",
                date_time=_local_moment(day, rng),
                amount=-order.net,
                base_value=None,
                fee_percentage=None,
                business_date=day,
                expected_date=later[1],
                payment_method=order.payment_method,
                card_brand=order.card_brand,
            )
            result[i] = replace(order, kind="refunded", events=(*order.events, reversal))
            done += 1
        return tuple(result)

    # ----------------------------------------------------------------------------------- payouts

    def _pay_batches(self) -> tuple[tuple[PayoutBatch, ...], dict[str, BankLedger]]:
        """Group events into batches, decide each batch's fate by quota, post the credits to the bank."""
        cfg = self.config
        totals: dict[tuple[str, date], Decimal] = {}
        spans: dict[tuple[str, date], tuple[date, date]] = {}
        members: dict[tuple[str, date], list[str]] = {}
        payable: set[tuple[str, date]] = set()
        for order in self.orders:
            if not order.events:
                continue
            own = (order.merchant_id, order.expected_date)
            members.setdefault(own, []).append(order.order_id)
            if order.kind != "cancelled":
                payable.add(own)
            for event in order.events:
                key = (event.merchant_id, event.expected_date)
                totals[key] = totals.get(key, Decimal("0.00")) + event.amount
                first, last = spans.get(key, (event.business_date, event.business_date))
                spans[key] = (min(first, event.business_date), max(last, event.business_date))
        store_by_merchant = {s.merchant_id: s for s in self.stores}
        store_rank = {s.merchant_id: i for i, s in enumerate(self.stores)}
        keys = sorted(payable, key=lambda k: (store_rank[k[0]], k[1]))
        plans = _plan_payouts(
            keys,
            totals,
            spans,
            {m: s.anticipation_fee_rate for m, s in store_by_merchant.items()},
            self.as_of,
            cfg,
            _rng(cfg.seed, "fates"),
            _rng(cfg.seed, "payout-amounts"),
        )

        ledgers: dict[str, BankLedger] = {}
        posted: dict[tuple[str, date, int], str] = {}
        credits_by_merchant: dict[str, list[PlannedCredit]] = {s.merchant_id: [] for s in self.stores}
        for (merchant, expected), plan in plans.items():
            for part, (day, amount) in enumerate(plan.credits):
                credits_by_merchant[merchant].append(PlannedCredit(merchant, expected, day, int(amount * 100), part))
        for index, store in enumerate(self.stores):
            ledger, ids = build_ledger(
                _rng(cfg.seed, "bank", index),
                account_id=store.account_id,
                start=cfg.start,
                days=cfg.days,
                noise_per_day=cfg.bank_noise_per_day,
                credits=credits_by_merchant[store.merchant_id],
                counterparties=self.counterparties,
                opening_balance_cents=int(store.opening_balance * 100),
            )
            ledgers[store.account_id] = ledger
            posted.update(ids)

        batches = []
        for key in keys:
            merchant_id, expected = key
            plan = plans[key]
            store = store_by_merchant[merchant_id]
            batches.append(
                PayoutBatch(
                    tenant_id=store.tenant_id,
                    merchant_id=merchant_id,
                    account_id=store.account_id,
                    expected_date=expected,
                    first_sale_date=spans[key][0],
                    last_sale_date=spans[key][1],
                    order_ids=tuple(members[key]),
                    total=totals[key],
                    fate=plan.fate,
                    credits=tuple(
                        Credit(day, amount, posted.get((merchant_id, expected, part)))
                        for part, (day, amount) in enumerate(plan.credits)
                    ),
                    anticipation=plan.anticipation,
                    settlement_listed=plan.listed,
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


@dataclass(frozen=True, slots=True)
class _Plan:
    fate: Fate
    credits: tuple[tuple[date, Decimal], ...]
    anticipation: Anticipation | None = None
    listed: bool = True


# Fates in the order they are handed out: the most constrained first, so a small world still
# finds a batch for each. "slightly_late_gap" is a slightly-late batch whose credit is within the
# grace period in business days but more than GRACE_DAYS calendar days after E (a weekend or a
# holiday in between), so calendar-day arithmetic would call it late. "very_late" is an unlisted
# batch (its settlement is not in iFood's settlements API) paid exactly, VERY_LATE_DAYS business days
# after E or as close to that as the world allows (at least VERY_LATE_MIN_DAYS): only the bank
# shows the payment, and it is late_payment however late.
_FATE_ORDER = (
    "very_late",
    "late",
    "never_paid",
    "partial_late",
    "partial_pending",
    "slightly_late_gap",
    "anticipated",
    "partial",
    "wrong_amount",
    "within_tolerance",
    "slightly_late",
)


def _plan_payouts(
    keys: list[tuple[str, date]],
    totals: dict[tuple[str, date], Decimal],
    spans: dict[tuple[str, date], tuple[date, date]],
    fee_rates: dict[str, Decimal],
    as_of: date,
    cfg: WorldConfig,
    rng: random.Random,
    amounts: random.Random,
) -> dict[tuple[str, date], _Plan]:
    """Decide how each batch gets paid and the credits (date, amount) that result.

    Fates that produce a reason only go to batches where the reason is visible by `as_of` (a
    late credit must post before `as_of`, a missing one must be past the deadline, a partial
    payment still awaiting its second part needs E < as_of ≤ deadline, ...). Quotas are
    round(rate × batches); with at least MIN_BATCHES_FOR_COVERAGE batches each reason gets a
    batch even when the rate would round to fewer. Each kind of fate scans the shuffled batches
    once, so this is linear in the number of batches.
    """
    g = GRACE_DAYS
    n = len(keys)
    big = n >= MIN_BATCHES_FOR_COVERAGE

    after: dict[tuple[date, int], date] = {}

    def bd(day: date, k: int) -> date:
        value = after.get((day, k))
        if value is None:
            value = after[(day, k)] = add_business_days(day, k)
        return value

    def fee_of(key: tuple[str, date]) -> Decimal:
        return q(totals[key] * fee_rates[key[0]])

    # A very late credit VERY_LATE_DAYS business days after E when some batch allows it, else less.
    very_late = VERY_LATE_DAYS if any(bd(k[1], VERY_LATE_DAYS) < as_of for k in keys) else VERY_LATE_MIN_DAYS
    eligible: dict[str, Callable[[tuple[str, date]], bool]] = {
        "very_late": lambda k: bd(k[1], very_late) < as_of,
        "late": lambda k: bd(k[1], g + 1) < as_of,
        "never_paid": lambda k: bd(k[1], g) < as_of,
        "partial_late": lambda k: bd(k[1], g + 1) < as_of and totals[k] >= 1,
        "partial_pending": lambda k: k[1] < as_of <= bd(k[1], g) and totals[k] >= 1,
        "slightly_late_gap": lambda k: bd(k[1], g) < as_of and (bd(k[1], g) - k[1]).days > g,
        "anticipated": lambda k: bd(spans[k][1], 1) < k[1] and bd(spans[k][1], 1) < as_of and fee_of(k) > TOLERANCE,
        "partial": lambda k: bd(k[1], 1) < as_of and totals[k] >= 1,
        "wrong_amount": lambda k: k[1] < as_of,
        "within_tolerance": lambda k: k[1] < as_of,
        "slightly_late": lambda k: bd(k[1], 1) < as_of,
    }

    wanted: dict[str, int] = dict.fromkeys(_FATE_ORDER, 0)

    def quota(rate: float, floor: tuple[str, ...], rest: tuple[str, ...], multiplier: int = 1) -> None:
        count = round(rate * n)
        if rate > 0 and big:
            count = max(count, len(floor))
            chosen = list(floor)
        else:
            chosen = []
        while len(chosen) < count:
            chosen.append(rng.choice(rest))
        for fate in chosen[:count]:
            wanted[fate] += multiplier

    quota(cfg.divergent_rate, ("late", "never_paid", "wrong_amount"), ("late", "never_paid", "wrong_amount"))
    quota(
        cfg.partial_payment_rate,
        ("partial_pending", "partial_late", "partial"),
        ("partial", "partial", "partial_late", "partial_pending"),
    )
    quota(cfg.anticipation_rate, ("anticipated",), ("anticipated",))
    if cfg.unlisted_settlement_rate > 0 and big:
        wanted["very_late"] += 1  # the floor; further unlisted batches keep their fate (see below)
    variants = round(RECONCILED_VARIANT_RATE * n)
    if n >= MIN_BATCHES_FOR_VARIANTS:
        variants = max(variants, 1)
        wanted["slightly_late_gap"] += 1
        wanted["slightly_late"] += variants - 1
    else:
        wanted["slightly_late"] += variants
    wanted["within_tolerance"] += variants

    shuffled = list(keys)
    rng.shuffle(shuffled)
    fates: dict[tuple[str, date], str] = {}
    for fate in _FATE_ORDER:
        want = wanted[fate]
        test = eligible[fate]
        for key in shuffled:
            if want <= 0:
                break
            if key not in fates and test(key):
                fates[key] = fate
                want -= 1
        if fate == "slightly_late_gap" and want > 0:
            wanted["slightly_late"] += want  # no weekend/holiday gap available: an ordinary one instead

    plans: dict[tuple[str, date], _Plan] = {}
    for key in keys:
        expected, total = key[1], totals[key]
        fate = fates.get(key, "on_time")

        def later(first: int, last: int, *, visible: bool = True, expected: date = expected) -> date:
            days = [bd(expected, j) for j in range(first, last + 1)]
            days = [d for d in days if (d < as_of) == visible]
            return amounts.choice(days)

        if fate == "on_time":
            plans[key] = _Plan("on_time", ((expected, total),))
        elif fate == "very_late":
            day = next(
                d for d in (bd(expected, j) for j in range(VERY_LATE_DAYS, VERY_LATE_MIN_DAYS - 1, -1)) if d < as_of
            )
            plans[key] = _Plan("very_late", ((day, total),), listed=False)
        elif fate in ("within_tolerance", "wrong_amount"):
            off = amounts.randint(1, int(TOLERANCE * 100)) if fate == "within_tolerance" else amounts.randint(50, 2_500)
            cents = int(total * 100)
            cents = cents + off if amounts.random() < 0.5 or cents - off < 1 else cents - off
            plans[key] = _Plan(fate, ((expected, from_cents(cents)),))  # type: ignore[arg-type]
        elif fate == "slightly_late_gap":
            plans[key] = _Plan("slightly_late", ((bd(expected, g), total),))
        elif fate == "slightly_late":
            plans[key] = _Plan("slightly_late", ((later(1, g), total),))
        elif fate == "late":
            plans[key] = _Plan("late", ((later(g + 1, g + 3), total),))
        elif fate == "never_paid":
            plans[key] = _Plan("never_paid", ())
        elif fate == "anticipated":
            fee = fee_of(key)
            day = bd(spans[key][1], 1)
            rate = fee_rates[key[0]]
            plans[key] = _Plan("anticipated", ((day, total - fee),), Anticipation(rate, fee, total, total - fee, day))
        else:  # partial payments: 40–70 % on E, the rest later
            first = q(total * amounts.randint(40, 70) / 100)
            if fate == "partial":
                second_day = later(1, g)
            elif fate == "partial_late":
                second_day = later(g + 1, g + 3)
            else:
                second_day = later(1, g, visible=False)
            plans[key] = _Plan(fate, ((expected, first), (second_day, total - first)))  # type: ignore[arg-type]
    for key in _unlisted(keys, fates, as_of, cfg, big):
        plans[key] = replace(plans[key], listed=False)
    return plans


def _unlisted(
    keys: list[tuple[str, date]], fates: dict[tuple[str, date], str], as_of: date, cfg: WorldConfig, big: bool
) -> list[tuple[str, date]]:
    """Batches, besides the very_late one, whose settlement iFood's API does not list.

    round(unlisted_settlement_rate × batches) in all, very_late included; with the coverage floor,
    one paid on time (found by amount) and one paid a wrong amount on E (found by the expected
    date) come first. Only single-credit fates qualify (UNLISTED_FATES); drawn from a stream of
    their own, so the other fates stay where they were.
    """
    rate = cfg.unlisted_settlement_rate
    if rate <= 0:
        return []
    already = sum(1 for fate in fates.values() if fate == "very_late")
    count = round(rate * len(keys)) - already
    pool = [k for k in keys if fates.get(k, "on_time") in UNLISTED_FATES]
    _rng(cfg.seed, "unlisted").shuffle(pool)
    chosen: list[tuple[str, date]] = []
    if big:
        for want in ("on_time", "wrong_amount"):
            found = next((k for k in pool if fates.get(k, "on_time") == want and k[1] < as_of), None)
            if found is not None:
                chosen.append(found)
        count = max(count, len(chosen))
    chosen += [k for k in pool if k not in chosen][: max(count - len(chosen), 0)]
    return chosen[:count] if count > 0 else []
