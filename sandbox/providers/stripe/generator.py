"""Stripe's part in building a world: one account per store, its checkout payments, their money
movements and the automatic daily payouts, and the bank credits that pay those out.

Stripe joined the world after the first platforms, so it never draws from the shared parties
stream: `sign_up` ignores the rng it is given, and every draw comes from streams labelled
"stripe" (`stream(seed, "stripe", …)`), so adding Stripe moves nobody else's facts.

Per store, `plan` draws (stream "stripe", "store", i) the orders of each business day from the
tenant's checkout catalogue (`sandbox.core.payments.checkout`), paid by card (1–12 instalments)
or PIX, then each payment's fate from the checkout knobs: card declined (`payment_failed_rate`),
PIX expired (`payment_expired_rate`), PIX pending when created on the world's last business day,
else paid; of the paid, refunded (`refund_rate`, after its payout for `refund_after_payout_share`
of them when the world allows), charged back (cards, `chargeback_rate`) or held out of every
payout (`stripe_held_rate`). A paid charge's Stripe fee is the tenant's contract (`FEE_RULES`,
one tenant's card rate renegotiated mid-world) plus an over-charge on `overcharge_rate` of them;
its application fee is the checkout's platform fee, off by a few centavos to reais on
`split_mismatch_rate` of them; its funds become available per `StripeKnobs.available_on`.
Payouts follow (`_payouts`), then their bank credits (stream "stripe", "payouts", i).
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sandbox.core.bank import PlannedCredit
from sandbox.core.calendar import SAO_PAULO, add_business_days, is_business_day
from sandbox.core.money import from_cents, q, to_cents
from sandbox.core.parties import ClientCredentials, Parties, Store
from sandbox.core.payments.checkout import Catalogue, CheckoutOrder, catalogue, draw_order
from sandbox.core.payments.facts import FeeScheduleRow, PaymentFacts, PayoutFacts, Tolerances
from sandbox.core.payments.payouts import credit_facts, draw_fault, plan_credits
from sandbox.core.platform import PostedBank
from sandbox.core.streams import stream
from sandbox.providers.stripe import NAME
from sandbox.providers.stripe.facts import StripeFacts
from sandbox.providers.stripe.knobs import StripeKnobs
from sandbox.providers.stripe.payer import STRIPE_PAYER
from sandbox.providers.stripe.records import (
    BalanceTransaction,
    Charge,
    Dispute,
    FeeDetail,
    Payout,
    Refund,
    StripeAccount,
)

METHODS = ("pix", "card")
_ALNUM = string.ascii_letters + string.digits
CONTRACT_START = date(2015, 1, 1)
# The tenants' fee contract with Stripe: (method, instalments from, to, percent, fixed reais).
FEE_RULES = (
    ("card", 1, 1, Decimal("3.99"), Decimal("0.39")),
    ("card", 2, 6, Decimal("5.49"), Decimal("0.39")),
    ("card", 7, 12, Decimal("6.99"), Decimal("0.39")),
    ("pix", 1, 1, Decimal("1.19"), Decimal("0")),
)
RENEGOTIATED_CARD_PERCENT = Decimal("3.49")  # one tenant's card-at-once rate from mid-world on
DISPUTE_FEE_CENTS = 1500
PIX_PENDING_SHARE = 0.5  # of the PIX orders of the last business day: still awaiting the buyer
CARD_BRANDS = (("visa", 45), ("mastercard", 40), ("elo", 10), ("amex", 5))
DISPUTE_REASONS = ("fraudulent", "product_not_received", "unrecognized", "credit_not_processed")
PAYOUT_HOUR = 5  # automatic payouts are created at about 05:00 São Paulo time on their arrival day
WORLD_NOON = time(12)  # the world's clock for Stripe: noon São Paulo time on the as-of day


def world_now(as_of: date) -> datetime:
    """The moment the world is served as of: noon (São Paulo) on the as-of day; nothing later exists."""
    return datetime.combine(as_of, WORLD_NOON, SAO_PAULO).astimezone(UTC)


def sp_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), SAO_PAULO).astimezone(UTC)


def sp_date(moment: datetime) -> date:
    return moment.astimezone(SAO_PAULO).date()


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in plain).split())


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(n))


class _Ids:
    """Stripe-shaped object ids (`ch_3` + 23 letters and digits, …), unique in the world."""

    def __init__(self, rng: random.Random, seen: set[str]) -> None:
        self._rng = rng
        self._seen = seen

    def __call__(self, prefix: str, n: int = 23) -> str:
        while True:
            value = f"{prefix}{_alnum(self._rng, n)}"
            if value not in self._seen:
                self._seen.add(value)
                return value


def fee_schedule(tenant_id: str, renegotiated_from: date | None) -> list[FeeScheduleRow]:
    """The tenant's contract rows; `renegotiated_from`: its card-at-once rate drops from that day on."""
    rows = []
    for method, low, high, percent, fixed in FEE_RULES:
        if renegotiated_from is not None and (method, low) == ("card", 1):
            rows.append(
                FeeScheduleRow(
                    tenant_id,
                    NAME,
                    method,
                    low,
                    high,
                    percent,
                    fixed,
                    None,
                    CONTRACT_START,
                    renegotiated_from - timedelta(days=1),
                )
            )
            rows.append(
                FeeScheduleRow(
                    tenant_id, NAME, method, low, high, RENEGOTIATED_CARD_PERCENT, fixed, None, renegotiated_from, None
                )
            )
        else:
            rows.append(FeeScheduleRow(tenant_id, NAME, method, low, high, percent, fixed, None, CONTRACT_START, None))
    return rows


def contracted_fee_cents(
    rows: Sequence[FeeScheduleRow], method: str, installments: int, day: date, gross: Decimal
) -> int:
    for row in rows:
        if row.covers(method, installments, day):
            return to_cents(q(gross * row.percent_fee / 100 + row.fixed_fee))
    raise LookupError(f"no Stripe fee row covers {method} x{installments} on {day}")


class StripeGenerator:
    """Generates one world's Stripe facts (the `PlatformGenerator` of sandbox.core.platform)."""

    def __init__(self, config: StripeKnobs) -> None:
        self.config = config
        self._seen: set[str] = set()
        self._accounts: list[StripeAccount] = []
        self._charges: list[Charge] = []
        self._payouts: list[Payout] = []
        self._txns: list[BalanceTransaction] = []
        self._payments: list[PaymentFacts] = []
        self._payout_facts: list[PayoutFacts] = []
        self._planned: list[PlannedCredit] = []
        self._fees: list[FeeScheduleRow] = []
        self._catalogues: dict[str, Catalogue] = {}
        self._applications: dict[str, str] = {}

    # ------------------------------------------------------------------------------ sign-up

    def sign_up(self, tenant_id: str, rng: random.Random) -> ClientCredentials:
        """The tenant's checkout platform at Stripe: its Connect application id and platform key.

        `rng` (the shared parties stream) is not drawn from: Stripe's draws are its own.
        """
        own = stream(self.config.seed, NAME, "sign_up", tenant_id)
        application = f"ca_{_alnum(own, 32)}"
        self._applications[tenant_id] = application
        return ClientCredentials(application, f"sk_test_51{_alnum(own, 97)}")

    # ------------------------------------------------------------------------------ plan

    def plan(self, parties: Parties) -> Sequence[PlannedCredit]:
        cfg = self.config
        change = cfg.start + timedelta(days=max(1, cfg.days // 2))
        tenants = [t.tenant_id for t in parties.tenants]
        renegotiating = stream(cfg.seed, NAME, "contracts").choice(tenants) if tenants else None
        for tenant_id in tenants:
            self._catalogues[tenant_id] = catalogue(cfg.seed, tenant_id, cfg.start, cfg.days)
            self._fees += fee_schedule(tenant_id, change if tenant_id == renegotiating else None)
        names: dict[str, set[str]] = {}
        for index, store in enumerate(parties.stores):
            taken = names.setdefault(store.tenant_id, set())
            account = self._open_account(index, store, taken)
            self._accounts.append(account)
            self._plan_store(index, account)
        return self._planned

    def _open_account(self, index: int, store: Store, taken: set[str]) -> StripeAccount:
        rng = stream(self.config.seed, NAME, "account", index)
        ids = _Ids(rng, self._seen)
        account_id = ids("acct_1", 15)
        name = slug(store.name) or f"store-{index + 1}"
        while name in taken:
            name = f"{name}-{index + 1}"
        taken.add(name)
        secret_key = f"sk_test_51{account_id[6:]}{_alnum(rng, 82)}"
        created = sp_midnight(self.config.start) - timedelta(days=rng.randrange(60, 900), seconds=rng.randrange(86_400))
        return StripeAccount(
            account_id=account_id,
            tenant_id=store.tenant_id,
            store=store,
            name=name,
            secret_key=secret_key,
            webhook_secret=f"whsec_{_alnum(rng, 32)}",
            application=self._applications.get(store.tenant_id) or f"ca_{_alnum(rng, 32)}",
            bank_account=ids("ba_1", 23),
            created=created,
        )

    def _orders(self, rng: random.Random, account: StripeAccount) -> list[CheckoutOrder]:
        cfg = self.config
        cat = self._catalogues[account.tenant_id]
        orders = []
        for offset in range(cfg.days):
            day = cfg.start + timedelta(days=offset)
            if not is_business_day(day):
                continue
            k = cfg.stripe_orders_per_day
            n = rng.randint(k - k // 4, k + k // 4) if k else 0
            for _ in range(n):
                orders.append(
                    draw_order(
                        rng,
                        cat,
                        account.store,
                        day,
                        METHODS,
                        affiliate_share=cfg.affiliate_share,
                        bump_rate=cfg.bump_rate,
                        coupon_rate=cfg.coupon_rate,
                    )
                )
        orders.sort(key=lambda o: (o.created_at, o.order_id))
        return orders

    def _plan_store(self, index: int, account: StripeAccount) -> None:
        cfg = self.config
        rng = stream(cfg.seed, NAME, "store", index)
        ids = _Ids(stream(cfg.seed, NAME, "ids", index), self._seen)
        as_of_start = sp_midnight(cfg.as_of)
        business = [cfg.start + timedelta(days=d) for d in range(cfg.days)]
        business = [d for d in business if is_business_day(d)]
        last_day = business[-1] if business else None
        cat = self._catalogues[account.tenant_id]
        fees = [r for r in self._fees if r.tenant_id == account.tenant_id]
        charges: list[Charge] = []
        txns: list[BalanceTransaction] = []
        for order in self._orders(rng, account):
            charge_id, intent_id, method_id = ids("ch_3"), ids("pi_3"), ids("pm_1")
            brand = last4 = pix_id = None
            if order.method == "card":
                brand = rng.choices([b for b, _ in CARD_BRANDS], weights=[w for _, w in CARD_BRANDS])[0]
                last4 = f"{rng.randrange(10_000):04d}"
            else:
                pix_id = f"E{rng.randrange(10**8):08d}{order.order_date:%Y%m%d}{_alnum(rng, 11)}"
            created = order.created_at + timedelta(seconds=rng.randint(1, 20))
            gross = to_cents(order.gross)
            paid_day = sp_date(created)
            platform_fee = to_cents(q(order.gross * cat.rates_on(order.product_id, paid_day).platform_fee_rate))
            fate = rng.random()
            base = dict(
                charge_id=charge_id,
                intent_id=intent_id,
                method_id=method_id,
                account_id=account.account_id,
                order=order,
                created=created,
                amount=gross,
                application_fee_amount=platform_fee,
                card_brand=brand,
                card_last4=last4,
                pix_transaction_id=pix_id,
            )
            if order.method == "card" and fate < cfg.payment_failed_rate:
                charges.append(
                    Charge(
                        **base,
                        status="failed",
                        application_fee_id=None,
                        txn_id=None,
                        failure_code="card_declined",
                        failure_message="Your card was declined.",
                    )
                )
                continue
            if order.method == "pix" and fate < cfg.payment_expired_rate:
                charges.append(
                    Charge(
                        **base,
                        status="failed",
                        application_fee_id=None,
                        txn_id=None,
                        failure_code="payment_intent_payment_attempt_expired",
                        failure_message="The PIX code expired before the customer paid it.",
                    )
                )
                continue
            if order.method == "pix" and order.order_date == last_day and rng.random() < PIX_PENDING_SHARE:
                charges.append(Charge(**base, status="pending", application_fee_id=None, txn_id=None))
                continue
            # paid: the fee, the application fee, the release date
            stripe_fee = contracted_fee_cents(fees, order.method, order.installments, paid_day, order.gross)
            if rng.random() < cfg.overcharge_rate:
                stripe_fee += rng.randint(2, 200)
            app_fee = platform_fee
            if rng.random() < cfg.split_mismatch_rate:
                delta = rng.randint(2, 150)
                app_fee = app_fee - delta if app_fee - delta >= 0 and rng.random() < 0.5 else app_fee + delta
            release = cfg.available_on(order.method, paid_day)
            txn_id = ids("txn_3")
            txns.append(
                BalanceTransaction(
                    txn_id,
                    account.account_id,
                    "charge",
                    "charge",
                    charge_id,
                    gross,
                    (
                        FeeDetail(app_fee, "application_fee", "Application fee", account.application),
                        FeeDetail(stripe_fee, "stripe_fee", "Stripe processing fees"),
                    ),
                    created,
                    release,
                )
            )
            refund = dispute = None
            held = False
            story = rng.random()
            if story < cfg.refund_rate:
                refund = self._refund(rng, ids, charge_id, gross, created, release, as_of_start)
            elif order.method == "card" and story < cfg.refund_rate + cfg.chargeback_rate:
                dispute = self._dispute(rng, ids, charge_id, gross, created, as_of_start)
            elif (
                rng.random() < cfg.stripe_held_rate and add_business_days(release, Tolerances().grace_days) < cfg.as_of
            ):
                held = True
            if refund is not None:
                txns.append(
                    BalanceTransaction(
                        refund.txn_id,
                        account.account_id,
                        "refund",
                        "refund",
                        refund.refund_id,
                        -gross,
                        (),
                        refund.created,
                        sp_date(refund.created),
                        "REFUND FOR CHARGE",
                    )
                )
            if dispute is not None:
                txns.append(
                    BalanceTransaction(
                        dispute.txn_id,
                        account.account_id,
                        "adjustment",
                        "dispute",
                        dispute.dispute_id,
                        -gross,
                        (FeeDetail(DISPUTE_FEE_CENTS, "stripe_fee", "Dispute fee"),),
                        dispute.created,
                        sp_date(dispute.created),
                        f"Chargeback withdrawal for {charge_id}",
                    )
                )
            charges.append(
                Charge(
                    **base,
                    status="succeeded",
                    application_fee_id=ids("fee_1"),
                    txn_id=txn_id,
                    refund=refund,
                    dispute=dispute,
                    held=held,
                )
            )
        held_txns = {c.txn_id for c in charges if c.held}
        payouts = self._payouts_of(index, account, ids, [t for t in txns if t.txn_id not in held_txns])
        txns += [self._payout_txn(account, p) for p in payouts]
        self._charges += charges
        self._txns += txns
        self._payouts += payouts
        self._state_facts(index, account, charges, payouts, {t.txn_id: t for t in txns})

    def _refund(
        self,
        rng: random.Random,
        ids: _Ids,
        charge_id: str,
        gross: int,
        paid: datetime,
        release: date,
        as_of_start: datetime,
    ) -> Refund | None:
        """A full refund: after the payout (a business day after `release`, the payout's day) or before it."""
        cfg = self.config
        when: datetime | None = None
        if rng.random() < cfg.refund_after_payout_share:
            days = [add_business_days(release, k) for k in range(1, 6)]
            days = [d for d in days if d < cfg.as_of]
            if days:
                day = rng.choice(days)
                when = sp_midnight(day) + timedelta(seconds=rng.randrange(8 * 3600, 20 * 3600))
        if when is None:
            first = paid + timedelta(minutes=10)
            last = min(sp_midnight(release), as_of_start)
            span = int((last - first).total_seconds())
            if span <= 0:
                return None
            when = first + timedelta(seconds=rng.randrange(span))
        return Refund(ids("re_3"), charge_id, gross, when.replace(microsecond=0), ids("txn_3"))

    def _dispute(
        self, rng: random.Random, ids: _Ids, charge_id: str, gross: int, paid: datetime, as_of_start: datetime
    ) -> Dispute | None:
        """A chargeback 3–20 days after payment (never won: a won dispute is no chargeback)."""
        latest = min(paid + timedelta(days=20), as_of_start - timedelta(seconds=1))
        first = paid + timedelta(days=3)
        span = int((latest - first).total_seconds())
        if span <= 0:
            return None
        created = (first + timedelta(seconds=rng.randrange(span))).replace(microsecond=0)
        roll = rng.random()
        status, closed = ("needs_response", None) if roll < 0.5 else ("under_review", None)
        if roll >= 0.75:
            closing = created + timedelta(days=rng.randint(7, 15))
            if closing < as_of_start:
                status, closed = "lost", closing
        return Dispute(
            ids("du_1"), charge_id, gross, created, status, rng.choice(DISPUTE_REASONS), ids("txn_1"), closed
        )

    def _payouts_of(
        self, index: int, account: StripeAccount, ids: _Ids, txns: Sequence[BalanceTransaction]
    ) -> list[Payout]:
        """Each business day D before the as-of day: one payout of every transaction available by D,
        created before the payout was, and not paid out yet; none while that sums to zero or less.

        The world's story ends at the as-of day's midnight (the daily run's interval ends there): a
        payout of the as-of day would be created after it, so there is none."""
        cfg = self.config
        rng = stream(cfg.seed, NAME, "payout-times", index)
        waiting = sorted(txns, key=lambda t: (t.created, t.txn_id))
        payouts = []
        day = cfg.start
        while day < cfg.as_of:
            if is_business_day(day):
                created = sp_midnight(day) + timedelta(hours=PAYOUT_HOUR, seconds=rng.randrange(3600))
                due = [t for t in waiting if t.available_on <= day and t.created < created]
                total = sum(t.net for t in due)
                if due and total > 0:
                    payout_id = ids("po_1")
                    payouts.append(
                        Payout(
                            payout_id,
                            account.account_id,
                            created,
                            day,
                            total,
                            ids("txn_1"),
                            tuple(t.txn_id for t in due),
                        )
                    )
                    paid = {t.txn_id for t in due}
                    waiting = [t for t in waiting if t.txn_id not in paid]
            day += timedelta(days=1)
        return payouts

    @staticmethod
    def _payout_txn(account: StripeAccount, payout: Payout) -> BalanceTransaction:
        return BalanceTransaction(
            payout.txn_id,
            account.account_id,
            "payout",
            "payout",
            payout.payout_id,
            -payout.amount,
            (),
            payout.created,
            payout.arrival,
            "STRIPE PAYOUT",
        )

    def _state_facts(
        self,
        index: int,
        account: StripeAccount,
        charges: Sequence[Charge],
        payouts: Sequence[Payout],
        txns: dict[str, BalanceTransaction],
    ) -> None:
        """The store's payments and payouts in the rules' generic terms, and the credits paying the payouts."""
        cfg = self.config
        store = account.store
        payout_of = {t: p.payout_id for p in payouts for t in p.paid_txns}
        for c in charges:
            txn = txns.get(c.txn_id) if c.txn_id else None
            if c.dispute is not None:
                status = "charged_back"
            elif c.refund is not None:
                status = "refunded"
            else:
                status = {"succeeded": "paid", "pending": "pending", "failed": "failed"}[c.status]
            self._payments.append(
                PaymentFacts(
                    platform=NAME,
                    tenant_id=account.tenant_id,
                    integration=account.name,
                    bank_account_id=store.account_id,
                    payment_id=c.charge_id,
                    order=c.order,
                    installments=c.installments,
                    status=status,
                    gross=from_cents(c.amount),
                    fee=from_cents(txn.fee_of("stripe_fee")) if txn else Decimal("0.00"),
                    split_withheld=from_cents(txn.fee_of("application_fee")) if txn else Decimal("0.00"),
                    paid_at=c.created if c.status == "succeeded" else None,
                    expected_release=txn.available_on if txn else None,
                    refunded_at=c.refund.created if c.refund else None,
                    payout_id=payout_of.get(c.txn_id) if c.txn_id else None,
                )
            )
        faults = stream(cfg.seed, NAME, "payouts", index)
        for p in payouts:
            facts = PayoutFacts(
                NAME, account.tenant_id, account.name, store.account_id, p.payout_id, from_cents(p.amount), p.arrival
            )
            self._payout_facts.append(facts)
            self._planned += plan_credits(faults, facts, STRIPE_PAYER, draw_fault(faults, cfg.payout_fault_rate))

    # ------------------------------------------------------------------------------ finish

    def finish(self, bank: PostedBank) -> StripeFacts:
        cfg = self.config
        return StripeFacts(
            platform=NAME,
            as_of=cfg.as_of,
            payments=tuple(self._payments),
            payouts=tuple(self._payout_facts),
            credits=tuple(credit_facts(NAME, bank.posted, self._planned)),
            fee_schedules=tuple(self._fees),
            split_rates=tuple(r for cat in self._catalogues.values() for r in cat.split_rates),
            now=world_now(cfg.as_of),
            accounts=tuple(self._accounts),
            charges=tuple(self._charges),
            stripe_payouts=tuple(self._payouts),
            balance_transactions=tuple(self._txns),
        )
