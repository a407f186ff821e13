"""The story of a sales platform (a merchant of record) for one producer account, naming no platform.

A sales platform sells the tenant's catalogue (`sandbox.core.payments.checkout`) as the merchant of
record: the buyer pays the platform, which keeps its fee, pays the co-producer and the affiliate
their commissions and deposits the producer's commission to the producer's bank account
(docs/payment-reconciliation-rules.md, "Sales platforms"). Each platform's package renders the
story below in its own words (ids, statuses, wire); the story itself is the same:

1. Orders: each business day about `orders_per_day` (±25 %) checkout orders (`draw_order`, the
   platform's methods). An order that took the order bump is two sales: the main product's and the
   bump's (its price less the order's coupon), the bump's `parent` naming the main sale; both share
   the payment's fate.
2. Subscriptions: the catalogue's plans (`Catalogue.plans`). Each store starts the world with a few
   subscribers (started within the period before the world, already renewed some times) and gains
   new ones on `subscription_share` of the day's orders. A subscription is charged on its start and
   every period after while it is active: each charge is a sale of its own (card, one installment)
   with the subscription's number (`recurrency`). Some cancel (`subscription_cancel_rate`): no charge
   after the cancellation. A declined renewal leaves the subscription late: no later charge.
3. Fates, from the checkout's rates with a fixed set of draws per sale: card declined
   (`payment_failed_rate`); PIX or boleto never paid (`payment_expired_rate`: it lapses after the
   platform's term, or is still waiting at the world's end); else paid (card in seconds, PIX in
   minutes, boleto in one to three business days). A payment that would land on or after the world's
   end is still waiting.
4. Money of a paid sale: the fee is the tenant's contract (`FeeScheduleRow` valid on the paid date,
   by method and installments) plus an over-charge on `overcharge_rate`; the commissions are the
   rules' model (affiliate = round((gross − fee) × affiliate_rate), co-producer = round((gross − fee
   − affiliate) × coproducer_rate), producer the rest) except on `split_mismatch_rate` of the sales
   with an affiliate or co-producer, where R$ 0.02–1.50 moves from the producer's part to theirs
   (the parts still sum to gross − fee). R = add_business_days(paid date, release_days of the row).
5. Aftermath, inside the warranty (`warranty_days` calendar days after payment): `refund_rate` of
   the paid sales are refunded, after their deposit on `refund_after_payout_share` of them (on a
   later day with a deposit, which is smaller by the sale's net), else before it (never released);
   `chargeback_rate` of the card sales are charged back after their deposit (a later deposit day,
   or before the release when the world ends first).
6. Deposits: every business day R < as-of with released sales, one deposit per account of Σ net
   released on R − Σ net of the sales refunded or charged back on R that were released before it
   (the rules' daily deposit), kept at least R$ 1.00 by construction.

Every draw comes from streams labelled with the platform's name, per tenant and store.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sandbox.core.calendar import SAO_PAULO, add_business_days, is_business_day
from sandbox.core.money import q
from sandbox.core.parties import Store
from sandbox.core.payments.checkout import Catalogue, CheckoutOrder, Coproducer, Plan, Product, draw_order
from sandbox.core.payments.facts import FeeScheduleRow
from sandbox.core.payments.knobs import CheckoutKnobs
from sandbox.core.streams import stream

MIN_DEPOSIT = Decimal("1.00")
STATES = ("failed", "lapsed", "waiting", "paid", "refunded", "charged_back")


def slug(text: str) -> str:
    """`Açaí Central 1.2` → `acai-central-1-2`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "store"


def account_names(stores: Sequence[Store]) -> list[str]:
    """One integration name per store: its name as a slug, made unique in the world."""
    taken: set[str] = set()
    names = []
    for store in stores:
        name = base = slug(store.name)
        n = 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name)
        names.append(name)
    return names


def world_end(as_of: date) -> datetime:
    """The moment the story stops: `as_of` 00:00 in São Paulo (nothing later is known)."""
    return datetime.combine(as_of, time(), SAO_PAULO).astimezone(UTC)


def fee_row(
    rows: Sequence[FeeScheduleRow], tenant_id: str, method: str, installments: int, day: date
) -> FeeScheduleRow:
    for row in rows:
        if row.tenant_id == tenant_id and row.covers(method, installments, day):
            return row
    raise LookupError(f"{tenant_id}: no fee row covers {method} {installments}x on {day}")


def fee_schedule(
    platform: str,
    tenant_id: str,
    knobs: CheckoutKnobs,
    bands: Sequence[tuple[str, int, int]],
    percent: Decimal,
    fixed: Decimal,
    release_days: int,
    *,
    renegotiated_percent: Decimal | None = None,
    contract_days_before: int = 365,
) -> tuple[FeeScheduleRow, ...]:
    """A tenant's fee rows with a sales platform: one per (method, installments band), from a year
    before the world; with `renegotiated_percent`, each row is cut in the middle of the world and
    followed by one at that percent (so the fee audit must pick the row valid on the paid date)."""
    since = knobs.start - timedelta(days=contract_days_before)
    change = knobs.start + timedelta(days=max(1, knobs.days // 2))
    rows = []
    for method, low, high in bands:
        if renegotiated_percent is None:
            rows.append(
                FeeScheduleRow(tenant_id, platform, method, low, high, percent, fixed, release_days, since, None)
            )
            continue
        end = change - timedelta(days=1)
        rows.append(FeeScheduleRow(tenant_id, platform, method, low, high, percent, fixed, release_days, since, end))
        rows.append(
            FeeScheduleRow(
                tenant_id, platform, method, low, high, renegotiated_percent, fixed, release_days, change, None
            )
        )
    return tuple(rows)


@dataclass(frozen=True)
class SalesTerms:
    """What a platform's knobs tell the story."""

    platform: str
    orders_per_day: int
    methods: tuple[str, ...]
    warranty_days: int  # calendar days after payment a refund may happen in
    pix_ttl_hours: int  # an unpaid PIX lapses this long after creation
    boleto_ttl_days: int  # an unpaid boleto lapses at the end of its due day, this many days after creation
    subscription_share: float  # share of the day's orders that come with a new subscription
    subscription_cancel_rate: float  # share of subscriptions cancelled


@dataclass(frozen=True, slots=True)
class Subscription:
    """A buyer's subscription to a plan: its charges are sales; `number` counts them from its start."""

    key: str  # generic id (each platform renders its own)
    plan: Plan
    started_at: datetime
    first_number: int  # the number of its first charge inside the world
    affiliate_id: str | None
    canceled_at: datetime | None  # when the buyer cancelled (no charge after it)


@dataclass(frozen=True)
class Sale:
    """One sale of one account, in generic terms; money in `Decimal` reais."""

    index: int  # position in the account's sales (creation order)
    account: str
    tenant_id: str
    store: Store
    order: CheckoutOrder  # the checkout order of this sale (bump: the bump's product and price)
    parent: int | None  # the main sale's index for an order bump
    subscription: Subscription | None
    number: int  # the subscription charge's number (1 for a one-off sale)
    created_at: datetime
    state: str  # at the world's end: one of STATES
    paid_at: datetime | None
    failed_at: datetime | None
    lapses_at: datetime | None  # when an unpaid PIX/boleto lapses (may be after the world's end)
    fee: Decimal
    contracted_fee: Decimal
    percent_fee: Decimal
    fixed_fee: Decimal
    affiliate_commission: Decimal  # reported
    coproducer: Coproducer | None
    coproducer_commission: Decimal  # reported
    producer_commission: Decimal  # reported (stated net)
    mismatch: bool
    release: date | None  # R
    refunded_at: datetime | None
    charged_back_at: datetime | None
    protested_at: datetime | None  # a dispute opened before the chargeback
    warranty_until: datetime | None
    payout_day: date | None  # the deposit that paid it (R for released sales)
    renewal_failed: bool = False  # a declined subscription charge (the subscription is late)

    @property
    def gross(self) -> Decimal:
        return self.order.gross

    @property
    def method(self) -> str:
        return self.order.method

    @property
    def installments(self) -> int:
        return self.order.installments

    @property
    def product_id(self) -> str:
        return self.order.product_id

    @property
    def affiliate_id(self) -> str | None:
        return self.order.affiliate_id

    @property
    def took_money(self) -> bool:
        return self.state in ("paid", "refunded", "charged_back")

    @property
    def net(self) -> Decimal:
        """What the producer keeps: gross − fee − the commissions withheld (= the stated producer part)."""
        return self.gross - self.fee - self.affiliate_commission - self.coproducer_commission

    @property
    def undone_at(self) -> datetime | None:
        """When the money left again (refund or chargeback)."""
        return self.refunded_at or self.charged_back_at


@dataclass
class _Draft:
    sale: Sale
    u: dict[str, float] = field(default_factory=dict)


class SalesStory:
    """One account's sales and deposits (deterministic per seed, platform, tenant and store)."""

    def __init__(
        self,
        terms: SalesTerms,
        knobs: CheckoutKnobs,
        account: str,
        store: Store,
        store_index: int,
        catalogue: Catalogue,
        fee_rows: Sequence[FeeScheduleRow],
    ) -> None:
        self.terms = terms
        self.knobs = knobs
        self.account = account
        self.store = store
        self.tenant_id = store.tenant_id
        self.catalogue = catalogue
        self.fee_rows = fee_rows
        self.as_of = knobs.as_of
        self.end = world_end(knobs.as_of)
        self.begin = datetime.combine(knobs.start, time(), SAO_PAULO).astimezone(UTC)
        label = (terms.platform, self.tenant_id, store_index)
        self._orders = stream(knobs.seed, label[0], "orders", *label[1:])
        self._subs = stream(knobs.seed, label[0], "subscriptions", *label[1:])
        self._fates = stream(knobs.seed, label[0], "fates", *label[1:])
        self._after = stream(knobs.seed, label[0], "aftermath", *label[1:])
        self.sales: tuple[Sale, ...] = ()
        self.subscriptions: tuple[Subscription, ...] = ()
        self.deposits: tuple[tuple[date, Decimal], ...] = ()

    def tell(self) -> SalesStory:
        orders = self._checkout_orders()
        charges = self._subscription_charges()
        entries = sorted(orders + charges, key=lambda e: (e[0].created_at, e[0].order_id, e[1] is not None))
        drafts: list[_Draft] = []
        main_of: dict[str, int] = {}
        for order, bump_of, subscription, number in entries:
            parent = main_of.get(bump_of) if bump_of is not None else None
            draft = self._sale(len(drafts), order, parent, subscription, number, drafts)
            if bump_of is None:
                main_of[order.order_id] = draft.sale.index
            drafts.append(draft)
        drafts = self._stop_late_subscriptions(drafts)
        self._aftermath(drafts)
        self.sales = tuple(d.sale for d in drafts)
        self.deposits = self._deposits(self.sales)
        return self

    # ----------------------------------------------------------------------------- orders

    def _business_days(self) -> list[date]:
        k = self.knobs
        return [d for d in (k.start + timedelta(days=i) for i in range(k.days)) if is_business_day(d)]

    def _checkout_orders(self) -> list[tuple[CheckoutOrder, str | None, Subscription | None, int]]:
        """(order, main order id for a bump, subscription, number) per sale, one-off sales only."""
        k, rng, per_day = self.knobs, self._orders, self.terms.orders_per_day
        out: list[tuple[CheckoutOrder, str | None, Subscription | None, int]] = []
        for day in self._business_days():
            n = rng.randint(per_day - per_day // 4, per_day + per_day // 4) if per_day else 0
            for _ in range(n):
                order = draw_order(
                    rng,
                    self.catalogue,
                    self.store,
                    day,
                    self.terms.methods,
                    affiliate_share=k.affiliate_share,
                    bump_rate=k.bump_rate,
                    coupon_rate=k.coupon_rate,
                )
                out.extend(self._split_bump(order))
        return out

    def _split_bump(self, order: CheckoutOrder) -> list[tuple[CheckoutOrder, str | None, Subscription | None, int]]:
        if order.bump_product_id is None:
            return [(order, None, None, 1)]
        product = self.catalogue.product(order.product_id)
        assert isinstance(product, Product) and product.bump is not None
        bump_price = product.bump[1]
        if order.coupon_code is not None:
            percent = next(c.percent_off for c in self.catalogue.coupons if c.code == order.coupon_code)
            bump_price -= q(bump_price * percent / 100)
        main = replace(order, gross=order.gross - bump_price)
        bump = replace(
            order,
            order_id=f"{order.order_id}b",
            product_id=order.bump_product_id,
            offer_code=f"{order.offer_code}-bump",
            bump_product_id=None,
            gross=bump_price,
        )
        return [(main, None, None, 1), (bump, order.order_id, None, 1)]

    def _subscription_charges(self) -> list[tuple[CheckoutOrder, str | None, Subscription | None, int]]:
        """Every subscription of the store and its charges inside the world."""
        if not self.catalogue.plans:
            return []
        rng, terms = self._subs, self.terms
        subs: list[Subscription] = []
        existing = max(1, terms.orders_per_day // 2) if terms.orders_per_day else 0
        for _ in range(existing):
            plan = rng.choice(self.catalogue.plans)
            started = self.begin - timedelta(seconds=rng.randrange(1, plan.period_days * 86400))
            prior = rng.randint(1, 6)
            subs.append(self._subscription(rng, plan, started - timedelta(days=prior * plan.period_days), prior))
        for day in self._business_days():
            for _ in range(terms.orders_per_day):
                if rng.random() < terms.subscription_share:
                    plan = rng.choice(self.catalogue.plans)
                    at = datetime.combine(day, time(), SAO_PAULO) + timedelta(
                        seconds=rng.randrange(7 * 3600, 23 * 3600)
                    )
                    subs.append(self._subscription(rng, plan, at.astimezone(UTC), 0))
        self.subscriptions = tuple(subs)
        out = []
        for sub in subs:
            period = timedelta(days=sub.plan.period_days)
            i = 0
            while True:
                at = sub.started_at + i * period
                if at >= self.end or (sub.canceled_at is not None and at >= sub.canceled_at):
                    break
                if at >= self.begin:
                    number = i + 1
                    order = CheckoutOrder(
                        f"ord_{rng.getrandbits(64):016x}",
                        self.tenant_id,
                        self.store,
                        sub.plan.product_id,
                        sub.plan.plan_id,
                        None,
                        None,
                        sub.affiliate_id,
                        sub.plan.price,
                        "card",
                        1,
                        at,
                    )
                    out.append((order, None, sub, number))
                i += 1
        return out

    def _subscription(self, rng: random.Random, plan: Plan, started: datetime, prior: int) -> Subscription:
        k = self.knobs
        key = f"sub_{rng.getrandbits(48):012x}"
        affiliate = rng.choice(self.catalogue.affiliates) if rng.random() < k.affiliate_share else None
        canceled = None
        if rng.random() < self.terms.subscription_cancel_rate:
            after = rng.randint(prior + 1, prior + 3)  # cancelled after this many charges
            canceled = started + timedelta(
                days=plan.period_days * (after - 1), seconds=rng.randrange(3600, plan.period_days * 86400 - 3600)
            )
        first = prior + 1
        return Subscription(key, plan, started, first, affiliate, canceled)

    # ------------------------------------------------------------------------- one sale

    def _sale(
        self,
        index: int,
        order: CheckoutOrder,
        parent: int | None,
        subscription: Subscription | None,
        number: int,
        drafts: list[_Draft],
    ) -> _Draft:
        k, rng, terms = self.knobs, self._fates, self.terms
        names = (
            "fail",
            "expire",
            "refund",
            "after",
            "chargeback",
            "protest",
            "over",
            "over_pick",
            "split",
            "split_pick",
        )
        u = {name: rng.random() for name in names}
        quick_s = rng.randint(3, 60) if order.method == "card" else rng.randint(30, 1800)
        boleto_days = rng.randint(1, 3)
        boleto_s = rng.randrange(9 * 3600, 18 * 3600)
        created = order.created_at
        base = Sale(
            index=index,
            account=self.account,
            tenant_id=self.tenant_id,
            store=self.store,
            order=order,
            parent=parent,
            subscription=subscription,
            number=number,
            created_at=created,
            state="waiting",
            paid_at=None,
            failed_at=None,
            lapses_at=None,
            fee=Decimal("0.00"),
            contracted_fee=Decimal("0.00"),
            percent_fee=Decimal("0"),
            fixed_fee=Decimal("0"),
            affiliate_commission=Decimal("0.00"),
            coproducer=self.catalogue.coproducers.get(order.product_id),
            coproducer_commission=Decimal("0.00"),
            producer_commission=Decimal("0.00"),
            mismatch=False,
            release=None,
            refunded_at=None,
            charged_back_at=None,
            protested_at=None,
            warranty_until=None,
            payout_day=None,
        )
        if parent is not None:  # an order bump shares the main sale's payment
            main = drafts[parent].sale
            if main.paid_at is None:
                return _Draft(replace(base, state=main.state, failed_at=main.failed_at, lapses_at=main.lapses_at), {})
            return _Draft(self._paid(base, main.paid_at, u), u)
        if order.method == "card":
            if u["fail"] < k.payment_failed_rate:
                at = created + timedelta(seconds=quick_s)
                state = "failed" if at < self.end else "waiting"
                return _Draft(replace(base, state=state, failed_at=at, renewal_failed=subscription is not None), {})
            paid = created + timedelta(seconds=quick_s)
        elif order.method == "pix":
            lapses = created + timedelta(hours=terms.pix_ttl_hours)
            if u["expire"] < k.payment_expired_rate:
                return _Draft(replace(base, state="lapsed" if lapses < self.end else "waiting", lapses_at=lapses), {})
            paid = created + timedelta(seconds=quick_s)
        else:  # boleto
            due = created.astimezone(SAO_PAULO).date() + timedelta(days=terms.boleto_ttl_days)
            lapses = datetime.combine(due + timedelta(days=1), time(), SAO_PAULO).astimezone(UTC)
            if u["expire"] < k.payment_expired_rate:
                return _Draft(replace(base, state="lapsed" if lapses < self.end else "waiting", lapses_at=lapses), {})
            day = add_business_days(created.astimezone(SAO_PAULO).date(), boleto_days)
            paid = (datetime.combine(day, time(), SAO_PAULO) + timedelta(seconds=boleto_s)).astimezone(UTC)
            base = replace(base, lapses_at=lapses)
        if paid >= self.end:
            return _Draft(base, {})
        return _Draft(self._paid(base, paid, u), u)

    def _paid(self, base: Sale, paid: datetime, u: dict[str, float]) -> Sale:
        k, order = self.knobs, base.order
        day = paid.astimezone(SAO_PAULO).date()
        row = fee_row(self.fee_rows, self.tenant_id, order.method, order.installments, day)
        contracted = q(order.gross * row.percent_fee / 100 + row.fixed_fee)
        fee = contracted
        if u["over"] < k.overcharge_rate:
            fee = contracted + Decimal(2 + int(u["over_pick"] * max(1, int(order.gross)))).scaleb(-2)
        rate = self.catalogue.rates_on(order.product_id, day)
        rest = order.gross - fee
        affiliate = q(rest * rate.affiliate_rate) if order.affiliate_id is not None else Decimal("0.00")
        coproducer_rate = rate.coproducer_rate if base.coproducer is not None else Decimal("0")
        coproducer = q((rest - affiliate) * coproducer_rate)
        mismatch = u["split"] < k.split_mismatch_rate and (affiliate > 0 or coproducer > 0)
        if mismatch:
            delta = Decimal(2 + int(u["split_pick"] * 148)).scaleb(-2)  # R$ 0.02 – 1.50
            if affiliate > 0:
                affiliate += delta
            else:
                coproducer += delta
        producer = rest - affiliate - coproducer
        release = add_business_days(day, int(row.release_days or 0))
        return replace(
            base,
            state="paid",
            paid_at=paid,
            fee=fee,
            contracted_fee=contracted,
            percent_fee=row.percent_fee,
            fixed_fee=row.fixed_fee,
            affiliate_commission=affiliate,
            coproducer_commission=coproducer,
            producer_commission=producer,
            mismatch=mismatch,
            release=release,
            warranty_until=paid + timedelta(days=self.terms.warranty_days),
        )

    def _stop_late_subscriptions(self, drafts: list[_Draft]) -> list[_Draft]:
        """A subscription whose charge was declined is late: its later charges never happen."""
        late: dict[str, datetime] = {}
        kept: list[_Draft] = []
        for d in drafts:
            s = d.sale
            if s.subscription is not None:
                stop = late.get(s.subscription.key)
                if stop is not None and s.created_at > stop:
                    continue
                if s.renewal_failed:
                    late[s.subscription.key] = s.created_at
            kept.append(d)
        # re-index (bumps never belong to subscriptions, so parents keep their meaning after a renumbering)
        remap = {d.sale.index: i for i, d in enumerate(kept)}
        return [
            _Draft(replace(d.sale, index=i, parent=None if d.sale.parent is None else remap[d.sale.parent]), d.u)
            for i, d in enumerate(kept)
        ]

    # -------------------------------------------------------------------------- aftermath

    def _released(self, s: Sale) -> bool:
        return (
            s.took_money
            and s.release is not None
            and s.release < self.as_of
            and (s.undone_at is None or s.undone_at.astimezone(SAO_PAULO).date() > s.release)
        )

    def _aftermath(self, drafts: list[_Draft]) -> None:
        k = self.knobs
        wants = []
        for d in drafts:
            s = d.sale
            if s.state != "paid" or not d.u:
                continue
            if s.method == "card" and d.u["chargeback"] < k.chargeback_rate:
                wants.append((d, "chargeback"))
            elif d.u["refund"] < k.refund_rate:
                wants.append((d, "after" if d.u["after"] < k.refund_after_payout_share else "before"))
        later = []
        for d, kind in wants:  # first what takes sales out of their release day
            if kind == "before" and not self._refund_before(d):
                later.append((d, "after"))
            elif kind != "before":
                later.append((d, kind))
        day_net: dict[date, Decimal] = {}
        for d in drafts:
            if self._released(d.sale):
                r = d.sale.release
                day_net[r] = day_net.get(r, Decimal("0")) + d.sale.net  # type: ignore[index]
        day_debit = dict.fromkeys(day_net, Decimal("0"))
        for d, kind in later:
            if self._undo_after(d, kind, day_net, day_debit):
                continue
            s = d.sale
            r = s.release
            # no later deposit can carry it: undo it before its release if that leaves its day positive
            if r is not None and (r not in day_net or day_net[r] - day_debit[r] - s.net >= MIN_DEPOSIT):
                undone = self._refund_before(d) if kind != "chargeback" else self._chargeback_before(d)
                if undone and r in day_net:
                    day_net[r] -= s.net

    def _window(self, d: _Draft, last: datetime) -> tuple[datetime, datetime] | None:
        s = d.sale
        assert s.paid_at is not None and s.release is not None
        first = s.paid_at + timedelta(minutes=10)
        release_midnight = datetime.combine(s.release, time(), SAO_PAULO).astimezone(UTC)
        last = min(last, release_midnight, self.end)
        return (first, last) if last - first >= timedelta(hours=1) else None

    def _refund_before(self, d: _Draft) -> bool:
        """A refund before the release (inside the warranty): the money is never deposited."""
        assert d.sale.warranty_until is not None
        window = self._window(d, d.sale.warranty_until)
        if window is None:
            return False
        d.sale = replace(d.sale, state="refunded", refunded_at=_between(self._after, *window))
        return True

    def _chargeback_before(self, d: _Draft) -> bool:
        """A chargeback before a release the world does not reach."""
        window = self._window(d, self.end)
        if window is None:
            return False
        at = _between(self._after, *window)
        d.sale = replace(d.sale, state="charged_back", charged_back_at=at)
        return True

    def _undo_after(self, d: _Draft, kind: str, day_net: dict[date, Decimal], day_debit: dict[date, Decimal]) -> bool:
        """A refund (inside the warranty) or a chargeback on a later deposit day: that day's deposit is
        smaller by the sale's net."""
        s = d.sale
        if not self._released(s):
            return False
        assert s.release is not None and s.warranty_until is not None
        last_day = self.as_of - timedelta(days=1)
        if kind == "after":
            last_day = min(last_day, s.warranty_until.astimezone(SAO_PAULO).date())
        days = [x for x in sorted(day_net) if s.release < x <= last_day]
        days = [x for x in days[:8] if day_net[x] - day_debit[x] - s.net >= MIN_DEPOSIT]
        if not days:
            return False
        day = self._after.choice(days)
        opening = datetime.combine(day, time(8), SAO_PAULO).astimezone(UTC)
        at = _between(self._after, opening, opening + timedelta(hours=13))
        if kind == "after" and at > s.warranty_until:
            at = max(opening, s.warranty_until - timedelta(minutes=1))
            if at.astimezone(SAO_PAULO).date() != day:
                return False
        day_debit[day] += s.net
        if kind == "chargeback":
            protest = None
            if d.u.get("protest", 1.0) < 0.5:
                # the dispute opens earlier the same day: the rules date a chargeback by its first
                # PURCHASE_PROTEST / PURCHASE_CHARGEBACK notification, and the day's deposit is the one debited
                protest = max(opening, at - timedelta(minutes=10 * self._after.randint(24, 72)))
            d.sale = replace(s, state="charged_back", charged_back_at=at, protested_at=protest)
        else:
            d.sale = replace(s, state="refunded", refunded_at=at)
        return True

    # --------------------------------------------------------------------------- deposits

    def _deposits(self, sales: Sequence[Sale]) -> tuple[tuple[date, Decimal], ...]:
        amounts: dict[date, Decimal] = {}
        for s in sales:
            if self._released(s):
                amounts[s.release] = amounts.get(s.release, Decimal("0")) + s.net  # type: ignore[index]
        for s in sales:
            if self._released(s) and s.undone_at is not None:
                day = s.undone_at.astimezone(SAO_PAULO).date()
                if day in amounts:
                    amounts[day] -= s.net
        self.sales = tuple(replace(s, payout_day=s.release if self._released(s) else None) for s in sales)
        return tuple(sorted(amounts.items()))


def _between(rng: random.Random, first: datetime, last: datetime) -> datetime:
    """A whole second in [first, last)."""
    span = int((last - first).total_seconds())
    return first + timedelta(seconds=rng.randrange(max(1, span)))
