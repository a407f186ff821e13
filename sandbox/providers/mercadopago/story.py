"""Mercado Pago's story for one store's account: its checkout payments, their fates, releases and payouts.

Per business day of the world the account takes `mercadopago_orders_per_day` (±25 %) checkout
orders (`sandbox.core.payments.checkout.draw_order`, PIX or card in 1–12 installments); each order
is one payment, whose fate comes from the checkout's rates:

- card: declined (`rejected`) on `payment_failed_rate`; else approved seconds later, or after 1–48
  hours of manual review on `mercadopago_review_rate` (`in_process` until then);
- PIX: never paid on `payment_expired_rate` (`cancelled`/`expired` 24 hours after creation, or
  still `pending` when that is on or after `as_of`); else paid 20 s – 30 min later;
- a payment whose approval would come on or after `as_of` is still pending (`in_process` /
  `pending_waiting_transfer`): that is how the last days hold pending payments.

An approved payment pays MP's fee (the tenant's contracted rate, `fees.py`, plus an over-charge
on `overcharge_rate` of them) and the checkout's platform fee as `application_fee` (catalogue rate
× gross, off by a few centavos to R$ 1.50 on `split_mismatch_rate`); MP releases its net on `R`:
approval + `mercadopago_card_release_days` calendar days (card) or + `mercadopago_pix_release_days`
business days (PIX), moved to a business day, at the approval's time of day.

Of the approved: charged back (`charged_back`) on `chargeback_rate` of the cards, only before
their release (payments not released by `as_of`); refunded in full on `refund_rate`, after the
release on `refund_after_payout_share` of the refunds (on a later day the account has releases,
so that day's withdrawal is smaller by the refund), else before it (the money is never released).
A refund that cannot go where it was drawn goes to the other side when it can, else the payment
stays paid.

Every business day `D` < `as_of` with releases is one withdrawal to the store's bank (PIX from
Mercado Pago): `A` = Σ net released on `D` − Σ refunds dated `D` of payments released before `D`
(docs/payment-reconciliation-rules.md, "Payouts", Mercado Pago), kept positive by construction.
Every draw comes from streams labelled `mercadopago`, per tenant and store.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sandbox.core.calendar import SAO_PAULO, add_business_days, is_business_day, roll_forward
from sandbox.core.money import q
from sandbox.core.payments.checkout import Catalogue, CheckoutOrder, draw_order
from sandbox.core.payments.facts import FeeScheduleRow
from sandbox.core.streams import stream
from sandbox.providers.mercadopago import NAME
from sandbox.providers.mercadopago.fees import contracted_fee
from sandbox.providers.mercadopago.knobs import MercadoPagoKnobs
from sandbox.providers.mercadopago.records import Account, Payment, Refund

METHODS = ("pix", "card")
CARD_BRANDS = ("master", "visa", "elo", "amex", "hipercard")
CARD_BRAND_WEIGHTS = (40, 35, 12, 8, 5)
REJECTIONS = (
    "cc_rejected_insufficient_amount",
    "cc_rejected_bad_filled_security_code",
    "cc_rejected_other_reason",
    "cc_rejected_high_risk",
    "cc_rejected_call_for_authorize",
)
PIX_EXPIRATION = timedelta(hours=24)  # MP's default date_of_expiration of a PIX payment
MIN_PAYOUT = Decimal("1.00")  # a day's withdrawal stays at least this after an after-release refund
PAYMENT_ID_BASE = 140_000_000_000
PAYMENT_ID_BLOCK = 1_000_000_000  # per account, so ids never collide across accounts
REFUND_ID_BASE = 3_000_000_000
REFUND_ID_BLOCK = 10_000_000


def business_days(knobs: MercadoPagoKnobs) -> list[date]:
    return [d for d in (knobs.start + timedelta(days=i) for i in range(knobs.days)) if is_business_day(d)]


def as_of_instant(as_of: date) -> datetime:
    """The world's "now": `as_of` 00:00 in São Paulo. Everything MP knows happened before it."""
    return datetime.combine(as_of, time(), SAO_PAULO).astimezone(UTC)


def payout_id(account: str, day: date) -> str:
    """The rules' Mercado Pago payout: the account's withdrawal of the money released on `day`."""
    return f"{NAME}:{account}:{day.isoformat()}"


def _sp_date(moment: datetime) -> date:
    return moment.astimezone(SAO_PAULO).date()


def _between(rng: random.Random, first: datetime, last: datetime) -> datetime:
    """A whole second in [first, last)."""
    span = int((last - first).total_seconds())
    return first + timedelta(seconds=rng.randrange(max(1, span)))


@dataclass
class _Draft:
    """A payment while the story is being told (mutable), then frozen into a `Payment`."""

    payment: Payment
    want_chargeback: bool = False
    want_refund: bool = False
    want_after: bool = False
    refund_at: datetime | None = None
    refund_after: bool = False
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Payout:
    """One day's withdrawal of an account: the rules' payout (A, D) and what it is made of."""

    payout_id: str
    account: Account
    day: date
    amount: Decimal


class AccountStory:
    """Generates one account's payments and withdrawals (deterministic per seed, tenant and store)."""

    def __init__(
        self,
        knobs: MercadoPagoKnobs,
        account: Account,
        position: int,
        store_index: int,
        catalogue: Catalogue,
        fee_rows: tuple[FeeScheduleRow, ...],
        days: Sequence[date],
    ) -> None:
        self.knobs = knobs
        self.account = account
        self.position = position
        self.catalogue = catalogue
        self.fee_rows = fee_rows
        self.days = days
        self.as_of = knobs.as_of
        self.now = as_of_instant(knobs.as_of)
        self._orders_rng = stream(knobs.seed, NAME, "orders", account.tenant_id, store_index)
        self._fates_rng = stream(knobs.seed, NAME, "fates", account.tenant_id, store_index)
        self._refunds_rng = stream(knobs.seed, NAME, "refunds", account.tenant_id, store_index)
        self._next_payment = PAYMENT_ID_BASE + position * PAYMENT_ID_BLOCK
        self._next_refund = REFUND_ID_BASE + position * REFUND_ID_BLOCK
        self.payments: tuple[Payment, ...] = ()
        self.payouts: tuple[Payout, ...] = ()

    def tell(self) -> AccountStory:
        drafts = [self._payment(order) for order in self._orders()]
        self._aftermath(drafts)
        self.payments = tuple(self._final(d) for d in drafts)
        self.payouts = self._payouts(self.payments)
        return self

    # ------------------------------------------------------------------------- orders

    def _orders(self) -> list[CheckoutOrder]:
        k, rng = self.knobs, self._orders_rng
        per_day = k.mercadopago_orders_per_day
        orders = []
        for day in self.days:
            n = rng.randint(per_day - per_day // 4, per_day + per_day // 4) if per_day else 0
            day_orders = [
                draw_order(
                    rng,
                    self.catalogue,
                    self.account.store,
                    day,
                    METHODS,
                    affiliate_share=k.affiliate_share,
                    bump_rate=k.bump_rate,
                    coupon_rate=k.coupon_rate,
                )
                for _ in range(n)
            ]
            orders.extend(sorted(day_orders, key=lambda o: (o.created_at, o.order_id)))
        return orders

    def _payment_id(self, rng: random.Random) -> int:
        self._next_payment += rng.randint(1, 9_000)
        return self._next_payment

    # --------------------------------------------------------------------- one payment

    def _payment(self, order: CheckoutOrder) -> _Draft:
        k, rng, now = self.knobs, self._fates_rng, self.now
        # a fixed set of draws per payment, whatever its fate, so fates do not shift each other
        u_fail, u_review, u_chargeback, u_refund, u_after, u_over, u_split = (rng.random() for _ in range(7))
        quick_s = rng.randint(1, 20) if order.method == "card" else rng.randint(20, 1800)
        review_s = rng.randint(3600, 48 * 3600)
        over_pick, split_pick, detail_pick = rng.random(), rng.random(), rng.randrange(len(REJECTIONS))
        brand = rng.choices(CARD_BRANDS, weights=CARD_BRAND_WEIGHTS)[0]
        payment_id = self._payment_id(rng)
        card = order.method == "card"
        created = order.created_at
        product = next(p for p in self.catalogue.products if p.product_id == order.product_id)
        base = Payment(
            payment_id=payment_id,
            account=self.account.name,
            collector_id=self.account.collector_id,
            order=order,
            description=product.name,
            status="pending",
            status_detail="pending_waiting_transfer",
            payment_method_id=brand if card else "pix",
            payment_type_id="credit_card" if card else "bank_transfer",
            installments=order.installments,
            gross=order.gross,
            mp_fee=Decimal("0.00"),
            application_fee=Decimal("0.00"),
            created_at=created,
            approved_at=None,
            expires_at=None if card else created + PIX_EXPIRATION,
            release_at=None,
            released=False,
            refunds=(),
            charged_back_at=None,
            last_updated=created,
        )
        if card and u_fail < k.payment_failed_rate:
            at = created + timedelta(seconds=quick_s)
            return _Draft(replace(base, status="rejected", status_detail=REJECTIONS[detail_pick], last_updated=at))
        if not card and u_fail < k.payment_expired_rate:
            expires = created + PIX_EXPIRATION
            if expires < now:
                return _Draft(replace(base, status="cancelled", status_detail="expired", last_updated=expires))
            return _Draft(base)  # still waiting for the transfer
        delay = review_s if card and u_review < k.mercadopago_review_rate else quick_s
        approved = created + timedelta(seconds=delay)
        if approved >= now:
            if card:
                return _Draft(replace(base, status="in_process", status_detail="pending_review_manual"))
            return _Draft(base)
        day = _sp_date(approved)
        contract = contracted_fee(self.fee_rows, order.method, order.installments, day, order.gross)
        fee = contract
        if u_over < k.overcharge_rate:
            fee = contract + Decimal(2 + int(over_pick * max(1, int(order.gross)))).scaleb(-2)  # ≥ R$ 0.02
        platform_fee = q(order.gross * self.catalogue.rates_on(order.product_id, day).platform_fee_rate)
        application_fee = platform_fee
        if u_split < k.split_mismatch_rate:
            delta = Decimal(2 + int(split_pick * 148)).scaleb(-2)  # R$ 0.02 – 1.50
            application_fee = (
                platform_fee - delta if split_pick < 0.5 and platform_fee - delta > 0 else platform_fee + delta
            )
        release = self._release_day(order.method, day)
        release_at = datetime.combine(release, approved.astimezone(SAO_PAULO).time(), SAO_PAULO).astimezone(UTC)
        payment = replace(
            base,
            status="approved",
            status_detail="accredited",
            mp_fee=fee,
            application_fee=application_fee,
            approved_at=approved,
            release_at=max(release_at, approved),
            released=release < self.as_of,
            last_updated=approved,
        )
        return _Draft(
            payment,
            want_chargeback=card and u_chargeback < k.chargeback_rate,
            want_refund=u_refund < k.refund_rate,
            want_after=u_after < k.refund_after_payout_share,
        )

    def _release_day(self, method: str, approved_day: date) -> date:
        k = self.knobs
        if method == "card":
            return roll_forward(approved_day + timedelta(days=k.mercadopago_card_release_days))
        if k.mercadopago_pix_release_days:
            return add_business_days(approved_day, k.mercadopago_pix_release_days)
        return roll_forward(approved_day)

    # ---------------------------------------------------------- chargebacks and refunds

    def _aftermath(self, drafts: list[_Draft]) -> None:
        """Chargebacks and refunds before release first (they take payments out of their release
        day), then refunds after release (each keeps its day's withdrawal positive)."""
        rng, now = self._refunds_rng, self.now
        later: list[_Draft] = []
        for d in drafts:
            p = d.payment
            if p.status != "approved":
                continue
            if d.want_chargeback:
                if not p.released and p.approved_at is not None:
                    first, last = p.approved_at + timedelta(hours=1), now - timedelta(minutes=1)
                    if first < last:
                        at = _between(rng, first, last)
                        d.payment = replace(p, status="charged_back", status_detail="settled", charged_back_at=at)
                continue
            if not d.want_refund:
                continue
            if d.want_after and p.released:
                later.append(d)
            elif not self._refund_before(d) and p.released:
                later.append(d)  # no time before its release: after it, if a later day can carry it
        day_net: dict[date, Decimal] = {}
        for d in drafts:
            p = d.payment
            if p.status == "approved" and p.released and d.refund_at is None:
                day_net[p.release_date] = day_net.get(p.release_date, Decimal("0")) + p.net  # type: ignore[index]
        day_refunds: dict[date, Decimal] = dict.fromkeys(day_net, Decimal("0"))
        release_days = sorted(day_net)
        for d in later:
            if not self._refund_after(d, release_days, day_net, day_refunds):
                # no later release day can carry it: refund it before its release if there is time
                r = d.payment.release_date
                if r is not None and day_net[r] - day_refunds[r] - d.payment.net >= MIN_PAYOUT:
                    if self._refund_before(d):
                        day_net[r] -= d.payment.net

    def _refund_before(self, d: _Draft) -> bool:
        """A refund dated before the release day (and before as_of): the money is never released."""
        p = d.payment
        assert p.approved_at is not None and p.release_at is not None
        release_midnight = datetime.combine(p.release_date, time(), SAO_PAULO).astimezone(UTC)  # type: ignore[arg-type]
        first, last = p.approved_at + timedelta(minutes=10), min(release_midnight, self.now)
        if last - first < timedelta(hours=1):
            return False
        d.refund_at, d.refund_after = _between(self._refunds_rng, first, last), False
        return True

    def _refund_after(
        self, d: _Draft, release_days: list[date], day_net: dict[date, Decimal], day_refunds: dict[date, Decimal]
    ) -> bool:
        """A refund on a later day the account has releases on: that day's withdrawal is smaller by it."""
        p = d.payment
        r = p.release_date
        candidates = [x for x in release_days if r is not None and r < x < self.as_of]
        candidates = [x for x in candidates[:8] if day_net[x] - day_refunds[x] - p.gross >= MIN_PAYOUT]
        if not candidates:
            return False
        day = self._refunds_rng.choice(candidates)
        opening = datetime.combine(day, time(8), SAO_PAULO).astimezone(UTC)
        d.refund_at = _between(self._refunds_rng, opening, opening + timedelta(hours=13))
        d.refund_after = True
        day_refunds[day] += p.gross
        return True

    def _final(self, d: _Draft) -> Payment:
        p = d.payment
        if d.refund_at is None:
            if p.status == "charged_back":
                return replace(p, released=False, last_updated=max(p.last_updated, p.charged_back_at))  # type: ignore[type-var]
            return replace(p, last_updated=max(p.last_updated, p.release_at) if p.released else p.last_updated)  # type: ignore[type-var]
        self._next_refund += self._refunds_rng.randint(1, 5_000)
        refund = Refund(self._next_refund, p.payment_id, p.gross, d.refund_at)
        released = d.refund_after  # refunded before its release: the money never reached the balance
        last = max(d.refund_at, p.release_at) if released else d.refund_at  # type: ignore[type-var]
        return replace(
            p, status="refunded", status_detail="refunded", refunds=(refund,), released=released, last_updated=last
        )

    # --------------------------------------------------------------------- withdrawals

    def _payouts(self, payments: Sequence[Payment]) -> tuple[Payout, ...]:
        """One withdrawal per release day before as_of: Σ net released that day − refunds dated that
        day of payments released before it."""
        amounts: dict[date, Decimal] = {}
        for p in payments:
            if p.released and p.took_money:
                r = p.release_date
                amounts[r] = amounts.get(r, Decimal("0")) + p.net  # type: ignore[index]
        for p in payments:
            if p.released and p.status == "refunded":
                for refund in p.refunds:
                    day = _sp_date(refund.created_at)
                    amounts[day] -= refund.amount
        return tuple(
            Payout(payout_id(self.account.name, day), self.account, day, amounts[day]) for day in sorted(amounts)
        )
