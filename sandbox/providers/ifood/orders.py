"""iFood's orders: drafted per merchant and day, given their kind by quota, booked as financial events.

Every order is drafted from its merchant's own "orders" stream (created over the São Paulo day,
bag, fees, payment method, status history), then a few become sales-only, cancelled, orphan or
refunded-after-payment by quota (docs/sandbox-world.md, "How the mix is guaranteed"), and every
order but a sales-only one gets its financial events (payment, subsidy, commission, fees, and a
reversal when cancelled or refunded). Each choice draws from its own labelled stream, so the
mix of kinds does not move the drafts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sandbox.core.calendar import SAO_PAULO, add_business_days
from sandbox.core.ids import uuid4
from sandbox.core.money import from_cents, q
from sandbox.core.streams import stream
from sandbox.providers.ifood.knobs import IfoodKnobs
from sandbox.providers.ifood.records import FinancialEvent, Merchant, Order, OrderKind, StatusChange
from sandbox.providers.ifood.rules import MISSING_FROM_CONCILIATION_DAYS

MIN_ORDERS_FOR_COVERAGE = 20  # below this, the floors (at least one order of each kind) are not applied

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


def _quota(rate: float, population: int, min_population: int) -> int:
    """round(rate × population), but at least one when the rate is positive and the population large enough."""
    n = round(rate * population)
    if rate > 0 and n == 0 and population >= min_population:
        n = 1
    return min(n, population)


def _local_moment(day: date, rng: random.Random, first_hour: int = 9, last_hour: int = 22) -> datetime:
    """A UTC moment on `day` in São Paulo between `first_hour` and `last_hour` local time."""
    seconds = rng.randrange(first_hour * 3600, last_hour * 3600)
    return (datetime.combine(day, time(), SAO_PAULO) + timedelta(seconds=seconds)).astimezone(UTC)


@dataclass(slots=True)
class _Draft:
    """An order before its fate (regular / sales-only / cancelled) is known."""

    merchant: Merchant
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


class OrderBook:
    """Generates one world's iFood orders for its merchants (`orders()`), in merchant then creation order."""

    def __init__(self, config: IfoodKnobs) -> None:
        self.config = config
        self.as_of: date = config.as_of
        self._expected: dict[date, date] = {}  # sale day → expected payment date

    def orders(self, merchants: tuple[Merchant, ...]) -> tuple[Order, ...]:
        """Every order of every merchant; merchant i drafts from the stream ("orders", i)."""
        drafts = [self._draft_orders(merchant, i) for i, merchant in enumerate(merchants)]
        return self._add_refunds(self._finish_orders(drafts))

    def expected_for(self, sale_day: date) -> date:
        """The expected payment date of a sale day's events (cached: many orders share a day)."""
        expected = self._expected.get(sale_day)
        if expected is None:
            expected = self._expected[sale_day] = self.config.expected_payment_date(sale_day)
        return expected

    def _draft_orders(self, merchant: Merchant, store_index: int) -> list[_Draft]:
        cfg = self.config
        rng = stream(cfg.seed, "orders", store_index)
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
                        merchant=merchant,
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
        """Pick the sales-only, cancelled and orphan orders by quota, then book every order's events."""
        cfg = self.config
        drafts = [d for per_store in drafts_per_store for d in per_store]
        total = len(drafts)
        n_sales_only = _quota(cfg.sales_only_rate, total, MIN_ORDERS_FOR_COVERAGE)
        if cfg.sales_only_rate > 0 and total >= MIN_ORDERS_FOR_COVERAGE:
            n_sales_only = min(max(n_sales_only, 2), total)  # one of each sales-only reason
        n_cancelled = _quota(cfg.cancelled_rate, total, MIN_ORDERS_FOR_COVERAGE)
        n_cancelled = min(n_cancelled, total - n_sales_only)
        pick = stream(cfg.seed, "order-kinds")
        chosen = pick.sample(range(total), n_sales_only + n_cancelled)
        kinds: dict[int, OrderKind] = {i: "sales_only" for i in chosen[:n_sales_only]}
        kinds.update({i: "cancelled" for i in chosen[n_sales_only:]})
        spellings = list(CANCELLATION_SPELLINGS)
        pick.shuffle(spellings)
        if n_sales_only >= 2:
            self._spread_sales_only(drafts, kinds, stream(cfg.seed, "sales-only-floor"))

        n_orphan = min(_quota(cfg.orphan_event_rate, total, MIN_ORDERS_FOR_COVERAGE), total - len(kinds))
        orphan_pick = stream(cfg.seed, "orphans")
        while n_orphan:
            i = orphan_pick.randrange(total)
            if i not in kinds:
                kinds[i] = "orphan"
                n_orphan -= 1

        orders = []
        cancelled_seen = 0
        event_rng = stream(cfg.seed, "events")
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
        merchant = d.merchant
        expected = self.expected_for(d.business_date)
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
                    merchant_id=merchant.merchant_id,
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
                -q(bag * merchant.commission_rate),
                bag,
                merchant.commission_rate * 100,
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
            tenant_id=merchant.tenant_id,
            merchant_id=merchant.merchant_id,
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
        rng = stream(cfg.seed, "refunds")
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
                later = (order.merchant_id, self.expected_for(day))
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
