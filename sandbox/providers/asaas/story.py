"""The Asaas story of one world: checkout orders → Asaas payments → statements → daily transfers → bank credits.

1. **Orders.** Every store has one Asaas account; on every business day of the world it takes
   `asaas_orders_per_day` checkout orders (±25 %), drawn with the shared checkout
   (`checkout.catalogue` + `draw_order`, methods pix, card, boleto) from stream ("asaas",
   "orders", store index).
2. **Fates**, by quota over the whole world (`round(rate × candidates)`, at least one when the
   rate is positive and there are 20 candidates or more), from stream ("asaas", "fates"): failed
   (deleted), expired (PIX / boleto never paid: OVERDUE the day after the due date), refunded (of
   the paid orders; `refund_after_payout_share` of them after the transfer that paid them out),
   charged back (paid card orders). A payment whose moment comes on or after the as-of is not
   known yet: a boleto paid after it, an overdue date after it, stay PENDING.
3. **Payments.** A card order in N > 1 installments is N payments sharing `installment`, value =
   gross / N rounded down to the cent, the remainder on installment 1; each has its own fee (the
   contract's row for the plan's count, `contract.py`), plus an over-charge on `overcharge_rate`
   of the payments that took money, and, when the order has an affiliate, the split Asaas executes:
   the checkout's affiliate commission of that payment's value (docs/payment-reconciliation-rules.md,
   "Splits"), off by R$ 0.05–3.00 on `split_mismatch_rate` of them.
4. **Credits.** PIX is credited when paid (`asaas_pix_credit_days`), a boleto D+1 business day
   (`asaas_boleto_credit_days`), card installment k `asaas_card_credit_days` × k calendar days after
   confirmation, rolled forward to a business day (`estimatedCreditDate`; `creditDate` once it is
   before the as-of). A refund or chargeback before the credit cancels it.
5. **Statement.** The credit enters the balance as `PAYMENT_RECEIVED` (+value), `PAYMENT_FEE`
   (−fee) and, with a split, `INTERNAL_TRANSFER_DEBIT` (−split, naming the split in `splitId`) items; a refund after the credit
   is `PAYMENT_REVERSAL` (−value) + `PAYMENT_FEE_REVERSAL` (+fee) + `INTERNAL_TRANSFER_REVERSAL`
   (+split: the split is reversed too); a chargeback after the credit is `CHARGEBACK` (−value).
6. **Transfers.** At the start (00:00, São Paulo) of every business day the tenant's automatic
   transfer moves the whole balance the days before left, when positive and above the transfer
   fee, to the store's bank account: a `TRANSFER` item (−value) and a transfer object; PIX
   transfers are done the same day, TEDs the next business day. So a transfer dated D carries
   every credit dated before D and after the previous transfer (the rules read the statement by
   dates alone). Payments credited on the last business day await the next transfer
   (the story makes sure one exists when PIX is credited the same day and the world has orders).
7. **Bank.** Each transfer done before the as-of is one bank credit of `netValue` on its
   `effectiveDate`, unless `draw_fault` (stream ("asaas", "payouts")) makes it go wrong.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sandbox.core.bank import PlannedCredit
from sandbox.core.calendar import SAO_PAULO, add_business_days, is_business_day, roll_forward
from sandbox.core.ids import uuid4
from sandbox.core.money import q
from sandbox.core.payments.checkout import METHODS, Catalogue, CheckoutOrder, draw_order
from sandbox.core.payments.facts import FeeScheduleRow, PayoutFacts
from sandbox.core.payments.payouts import draw_fault, plan_credits
from sandbox.core.streams import stream
from sandbox.providers.asaas import NAME
from sandbox.providers.asaas.contract import TRANSFER_FEES, contracted_fee
from sandbox.providers.asaas.knobs import AsaasKnobs
from sandbox.providers.asaas.payer import ASAAS_ISPB, payer_for
from sandbox.providers.asaas.records import AsaasAccount, AsaasPayment, AsaasTransfer, Split, StatementItem

SWEEP_AT = time(0, 0)  # the tenant's daily transfer of the whole balance, at the start of the business day
MIN_FOR_FLOOR = 20  # a positive rate over at least this many candidates yields at least one
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_BRANDS = ("VISA", "MASTERCARD", "ELO", "AMEX", "HIPERCARD")


def sp(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A São Paulo wall-clock moment as an aware datetime."""
    return datetime.combine(day, time(hour, minute, second), SAO_PAULO)


def sp_date(moment: datetime) -> date:
    return moment.astimezone(SAO_PAULO).date()


def business_days(first: date, end: date) -> list[date]:
    """The business days in [first, end)."""
    days, day = [], first
    while day < end:
        if is_business_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def quota(rng: random.Random, rate: float, candidates: Sequence[object]) -> set[int]:
    """Indexes of `round(rate × n)` candidates (≥ 1 when the rate is positive and n ≥ MIN_FOR_FLOOR)."""
    n = len(candidates)
    k = round(rate * n)
    if rate > 0 and n >= MIN_FOR_FLOOR:
        k = max(k, 1)
    return set(rng.sample(range(n), min(k, n)))


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(n))


@dataclass
class _Fate:
    """What happens to one order (all its installments share it)."""

    failed: bool = False
    expired: bool = False
    refund: str | None = None  # "before" | "after" the payout
    chargeback: bool = False


@dataclass
class _Timeline:
    confirmed_at: datetime | None = None
    deleted_at: datetime | None = None
    overdue_at: datetime | None = None
    refunded_at: datetime | None = None
    chargeback_at: datetime | None = None


class AsaasStory:
    """Generates one world's Asaas facts for its accounts (call `build()` once)."""

    def __init__(
        self,
        config: AsaasKnobs,
        accounts: Sequence[AsaasAccount],
        catalogues: dict[str, Catalogue],
        fee_rows: Sequence[FeeScheduleRow],
    ) -> None:
        self.config = config
        self.accounts = tuple(accounts)
        self.catalogues = catalogues
        self.fee_rows = tuple(fee_rows)
        self.as_of = config.as_of
        self.end = sp(self.as_of)  # what the world knows: everything before as-of 00:00 São Paulo
        self.days = business_days(config.start, self.as_of)
        self.payments: list[AsaasPayment] = []
        self.statements: dict[str, list[StatementItem]] = {}
        self.transfers: list[AsaasTransfer] = []
        self.payout_of: dict[str, str] = {}  # payment id → transfer id (the first TRANSFER after its credit)
        self.planned: list[PlannedCredit] = []

    # ------------------------------------------------------------------------------- orders

    def _orders(self) -> list[CheckoutOrder]:
        cfg = self.config
        orders: list[CheckoutOrder] = []
        for index, account in enumerate(self.accounts):
            rng = stream(cfg.seed, NAME, "orders", index)
            catalogue = self.catalogues[account.tenant_id]
            n = cfg.asaas_orders_per_day
            for day in self.days:
                count = rng.randint(n - n // 4, n + n // 4) if n else 0
                day_orders = [
                    draw_order(
                        rng,
                        catalogue,
                        account.store,
                        day,
                        METHODS,
                        affiliate_share=cfg.affiliate_share,
                        bump_rate=cfg.bump_rate,
                        coupon_rate=cfg.coupon_rate,
                    )
                    for _ in range(count)
                ]
                orders.extend(sorted(day_orders, key=lambda o: o.created_at))
        return orders

    # -------------------------------------------------------------------------------- fates

    def _credit_dates(self, order: CheckoutOrder, confirmed: datetime) -> list[date]:
        """When each of the order's payments is credited (one per installment)."""
        cfg = self.config
        paid = sp_date(confirmed)
        if order.method == "pix":
            n = cfg.asaas_pix_credit_days
            return [add_business_days(paid, n) if n else paid]
        if order.method == "boleto":
            return [add_business_days(paid, cfg.asaas_boleto_credit_days)]
        count = order.installments
        return [roll_forward(paid + timedelta(days=cfg.asaas_card_credit_days * k)) for k in range(1, count + 1)]

    def _credit_moment(self, order: CheckoutOrder, confirmed: datetime, day: date, rng: random.Random) -> datetime:
        if order.method == "pix" and day == sp_date(confirmed):
            return confirmed  # PIX: in the balance the moment it is paid
        if day == sp_date(confirmed):
            return confirmed + timedelta(minutes=rng.randint(30, 120))
        return sp(day, rng.randint(6, 9), rng.randint(0, 59), rng.randint(0, 59))

    def _sweep_after(self, moment: datetime) -> date | None:
        """The business day whose start-of-day transfer is the first after `moment` (None: none in the world)."""
        for day in self.days:
            if sp(day, SWEEP_AT.hour) > moment:
                return day
        return None

    def _timelines(self, orders: Sequence[CheckoutOrder]) -> tuple[list[_Fate], list[_Timeline]]:
        cfg = self.config
        rng = stream(cfg.seed, NAME, "fates")
        fates = [_Fate() for _ in orders]
        indexes = list(range(len(orders)))
        for i in quota(rng, cfg.payment_failed_rate, indexes):
            fates[i].failed = True
        unpaid_kind = [i for i in indexes if orders[i].method in ("pix", "boleto") and not fates[i].failed]
        for k in quota(rng, cfg.payment_expired_rate, unpaid_kind):
            fates[unpaid_kind[k]].expired = True

        timelines = []
        for order, fate in zip(orders, fates, strict=True):
            t = _Timeline()
            created = order.created_at
            if fate.failed:
                t.deleted_at = created + timedelta(minutes=rng.randint(2, 90))
            elif fate.expired:
                overdue = sp(self._due_date(order) + timedelta(days=1), 0, rng.randint(5, 59), rng.randint(0, 59))
                t.overdue_at = overdue
            elif order.method == "card":
                t.confirmed_at = created + timedelta(seconds=rng.randint(5, 40))
            elif order.method == "pix":
                t.confirmed_at = created + timedelta(minutes=rng.randint(1, 45), seconds=rng.randint(0, 59))
            else:
                delay = rng.choice((0, 0, 1, 1, 2, 3))
                if delay == 0:
                    t.confirmed_at = created + timedelta(minutes=rng.randint(20, 240))
                else:
                    day = sp_date(created) + timedelta(days=delay)
                    t.confirmed_at = sp(day, rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59))
            timelines.append(t)

        paid = [i for i in indexes if timelines[i].confirmed_at is not None and timelines[i].confirmed_at < self.end]
        refunded = sorted(quota(rng, cfg.refund_rate, paid))
        refunded_orders = [paid[k] for k in refunded]
        # after-payout refunds: PIX / boleto payments credited, swept, and with a business day left
        eligible: dict[int, date] = {}
        for i in refunded_orders:
            refund_day = self._refund_day_after_payout(orders[i], timelines[i], rng)
            if refund_day is not None:
                eligible[i] = refund_day
        wanted = round(cfg.refund_after_payout_share * len(refunded_orders))
        if cfg.refund_after_payout_share > 0 and refunded_orders:
            wanted = max(wanted, 1)
        after = [i for i in refunded_orders if i in eligible][:wanted]
        for i in refunded_orders:
            t = timelines[i]
            assert t.confirmed_at is not None
            if i in after:
                fates[i].refund = "after"
                day = eligible[i]
                t.refunded_at = sp(day, rng.randint(9, 16), rng.randint(0, 59), rng.randint(0, 59))
            else:
                fates[i].refund = "before"
                t.refunded_at = self._refund_before_payout(orders[i], t.confirmed_at, rng)
        cards = [i for i in paid if orders[i].method == "card" and fates[i].refund is None]
        for k in quota(rng, cfg.chargeback_rate, cards):
            i = cards[k]
            t = timelines[i]
            assert t.confirmed_at is not None
            fates[i].chargeback = True
            span = (self.end - t.confirmed_at).total_seconds()
            t.chargeback_at = t.confirmed_at + timedelta(seconds=int(span * rng.uniform(0.2, 0.9)))
        return fates, timelines

    def _refund_day_after_payout(self, order: CheckoutOrder, t: _Timeline, rng: random.Random) -> date | None:
        """A business day after the transfer that pays the order out, before the as-of (None: no room)."""
        if order.method == "card" or t.confirmed_at is None:
            return None
        credit_day = self._credit_dates(order, t.confirmed_at)[0]
        credited = self._credit_moment(order, t.confirmed_at, credit_day, random.Random(0))
        sweep = self._sweep_after(credited)
        if sweep is None:
            return None
        operation = next(a.operation_type for a in self.accounts if a.store == order.store)
        effective = sweep if operation == "PIX" else add_business_days(sweep, 1)
        options = [add_business_days(effective, k) for k in (1, 2, 3)]
        options = [d for d in options if d < self.as_of]
        return rng.choice(options) if options else None

    def _refund_before_payout(self, order: CheckoutOrder, confirmed: datetime, rng: random.Random) -> datetime:
        if order.method == "card":
            span = (self.end - confirmed).total_seconds()
            return confirmed + timedelta(seconds=int(span * rng.uniform(0.05, 0.5)))
        moment = confirmed + timedelta(minutes=rng.randint(5, 25))
        return min(moment, self.end - timedelta(seconds=1))

    def _due_date(self, order: CheckoutOrder) -> date:
        created = order.order_date
        return created + timedelta(days={"pix": 1, "boleto": 3}.get(order.method, 0))

    def _guarantee_awaiting_payout(
        self, orders: Sequence[CheckoutOrder], fates: Sequence[_Fate], timelines: Sequence[_Timeline]
    ) -> CheckoutOrder | None:
        """One PIX order paid after the last transfer of the world, when none is (PIX same-day credit only).

        Only a world with orders gets it: a world asked for no Asaas orders (`asaas_orders_per_day=0`)
        has no payment at all, not one made up to show a payment awaiting its transfer.
        """
        if not orders or not self.days or not self.accounts or self.config.asaas_pix_credit_days:
            return None
        last = self.days[-1]
        cutoff = sp(last, SWEEP_AT.hour)
        for order, fate, t in zip(orders, fates, timelines, strict=True):
            paid = t.confirmed_at is not None and cutoff < t.confirmed_at < self.end
            if order.method == "pix" and paid and fate.refund is None and not fate.chargeback:
                return None
        account = self.accounts[0]
        rng = stream(self.config.seed, NAME, "awaiting-payout")
        cfg = self.config
        order = draw_order(
            rng,
            self.catalogues[account.tenant_id],
            account.store,
            last,
            ("pix",),
            affiliate_share=cfg.affiliate_share,
            bump_rate=cfg.bump_rate,
            coupon_rate=cfg.coupon_rate,
        )
        created = sp(last, 19, rng.randint(0, 59), rng.randint(0, 59)).astimezone(UTC)
        return replace(order, created_at=created)

    # ----------------------------------------------------------------------------- payments

    def _payments(self, orders: Sequence[CheckoutOrder], timelines: Sequence[_Timeline]) -> None:
        cfg = self.config
        rng = stream(cfg.seed, NAME, "payments")
        account_of = {a.store: a for a in self.accounts}
        drafts: list[dict] = []
        for order, t in zip(orders, timelines, strict=True):
            account = account_of[order.store]
            catalogue = self.catalogues[order.tenant_id]
            product = next(p for p in catalogue.products if p.product_id == order.product_id)
            count = order.installments if order.method == "card" else 1
            cents = int(order.gross * 100)
            rest = (cents // count) if count > 1 else cents
            values = [Decimal(cents - rest * (count - 1)).scaleb(-2)] + [Decimal(rest).scaleb(-2)] * (count - 1)
            credit_dates = self._credit_dates(order, t.confirmed_at) if t.confirmed_at else [None] * count
            installment_id = uuid4(rng) if count > 1 else None
            customer = f"cus_{rng.randrange(10**12):012d}"
            brand = rng.choice(_BRANDS) if order.method == "card" else None
            last4 = f"{rng.randrange(10_000):04d}" if order.method == "card" else None
            paid = t.confirmed_at is not None and t.confirmed_at < self.end
            rule_day = sp_date(t.confirmed_at) if paid and t.confirmed_at else order.order_date
            due = self._due_date(order)
            for k in range(count):
                value = q(values[k])
                credit_day = credit_dates[k]
                credited = None
                if t.confirmed_at is not None and credit_day is not None:
                    credited = self._credit_moment(order, t.confirmed_at, credit_day, rng)
                    for stop in (t.refunded_at, t.chargeback_at):
                        if stop is not None and stop <= credited:
                            credited = None  # refunded or disputed before the money was released
                    if credited is not None and credited >= self.end:
                        credited = None  # not yet
                drafts.append(
                    {
                        "payment_id": f"pay_{_alnum(rng, 16)}",
                        "account": account.name,
                        "order": order,
                        "product_name": product.name,
                        "customer_id": customer,
                        "installment_id": installment_id,
                        "installment_number": k + 1 if count > 1 else None,
                        "installment_count": count,
                        "invoice_number": f"{rng.randrange(10**8):08d}",
                        "value": value,
                        "fee": contracted_fee(self.fee_rows, order.tenant_id, order.method, count, rule_day, value),
                        "split": None,
                        "due_date": due + timedelta(days=30 * k),
                        "card_brand": brand,
                        "card_last4": last4,
                        "nosso_numero": f"{rng.randrange(10**8):08d}" if order.method == "boleto" else None,
                        "created_at": order.created_at,
                        "confirmed_at": t.confirmed_at,
                        "estimated_credit_date": credit_day,
                        "credited_at": credited,
                        "refunded_at": t.refunded_at,
                        "chargeback_at": t.chargeback_at,
                        "overdue_at": t.overdue_at,
                        "deleted_at": t.deleted_at,
                        "_rule_day": rule_day,
                    }
                )
        took_money = [i for i, d in enumerate(drafts) if d["confirmed_at"] is not None and d["confirmed_at"] < self.end]
        big = [i for i in took_money if drafts[i]["value"] >= Decimal("20")]
        for k in sorted(quota(rng, cfg.overcharge_rate, big)):
            d = drafts[big[k]]
            d["fee"] += Decimal(rng.randint(5, 200)).scaleb(-2)
        affiliated = [i for i, d in enumerate(drafts) if d["order"].affiliate_id]
        commissions = {}
        for i in affiliated:
            d = drafts[i]
            rates = self.catalogues[d["order"].tenant_id].rates_on(d["order"].product_id, d["_rule_day"])
            platform_fee = q(d["value"] * rates.platform_fee_rate)
            commissions[i] = q((d["value"] - platform_fee) * rates.affiliate_rate)
        mismatch_pool = [i for i in affiliated if i in set(took_money) and commissions[i] > 0]
        mismatched = {mismatch_pool[k] for k in quota(rng, cfg.split_mismatch_rate, mismatch_pool)}
        wallets = {}
        for i in affiliated:
            d = drafts[i]
            amount = commissions[i]
            if i in mismatched:
                delta = Decimal(rng.randint(5, 300)).scaleb(-2)
                room = d["value"] - d["fee"] - amount
                amount = amount + delta if delta <= room else max(Decimal("0.01"), amount - delta)
                if amount == commissions[i]:
                    amount += Decimal("0.02")
            amount = min(amount, d["value"] - d["fee"])
            if amount <= 0:
                continue
            affiliate = d["order"].affiliate_id
            if affiliate not in wallets:
                wallets[affiliate] = uuid4(stream(cfg.seed, NAME, "wallet", affiliate))
            d["split"] = Split(uuid4(rng), wallets[affiliate], amount)
        for d in drafts:
            d.pop("_rule_day")
            self.payments.append(AsaasPayment(**d))

    # ---------------------------------------------------------------------------- statements

    def _statements(self) -> None:
        cfg = self.config
        rng = stream(cfg.seed, NAME, "statement")
        by_account: dict[str, list[AsaasPayment]] = {a.name: [] for a in self.accounts}
        for p in self.payments:
            by_account[p.account].append(p)
        for account in self.accounts:
            # (when, order within the moment, type, signed value, payment id, description, split id)
            entries: list[tuple[datetime, int, str, Decimal, str | None, str, str | None]] = []
            for p in by_account[account.name]:
                if p.credited_at is None:
                    continue
                label = _label(p)
                at = p.credited_at
                entries.append((at, 0, "PAYMENT_RECEIVED", p.value, p.payment_id, f"Cobrança recebida - {label}", None))
                entries.append((at, 1, "PAYMENT_FEE", -p.fee, p.payment_id, f"Taxa de recebimento - {label}", None))
                if p.split:
                    text = f"Split de pagamento para a carteira {p.split.wallet_id} - {label}"
                    split = (-p.split.fixed_value, p.payment_id, text, p.split.split_id)
                    entries.append((at, 2, "INTERNAL_TRANSFER_DEBIT", *split))
                if p.refunded_at is not None and p.credited_at < p.refunded_at < self.end:
                    r = p.refunded_at
                    text = f"Estorno de cobrança - {label}"
                    entries.append((r, 0, "PAYMENT_REVERSAL", -p.value, p.payment_id, text, None))
                    entries.append(
                        (r, 1, "PAYMENT_FEE_REVERSAL", p.fee, p.payment_id, f"Estorno de taxa - {label}", None)
                    )
                    if p.split:
                        text = f"Estorno de split de pagamento - {label}"
                        split = (p.split.fixed_value, p.payment_id, text, p.split.split_id)
                        entries.append((r, 2, "INTERNAL_TRANSFER_REVERSAL", *split))
                if p.chargeback_at is not None and p.credited_at < p.chargeback_at < self.end:
                    c = p.chargeback_at
                    entries.append((c, 0, "CHARGEBACK", -p.value, p.payment_id, f"Chargeback - {label}", None))
            for day in self.days:
                entries.append((sp(day, SWEEP_AT.hour), 9, "SWEEP", Decimal(0), None, "", None))
            entries.sort(key=lambda e: (e[0], e[1], e[4] or ""))
            items: list[StatementItem] = []
            balance = Decimal("0.00")
            waiting: list[str] = []
            fee = TRANSFER_FEES[account.operation_type]
            for at, _, kind, value, payment_id, text, split_id in entries:
                if kind == "SWEEP":
                    if balance <= fee or balance <= 0:
                        continue
                    transfer = self._transfer(account, at, balance, fee, rng)
                    balance -= transfer.value
                    items.append(
                        StatementItem(
                            f"ft_{_alnum(rng, 14)}",
                            account.name,
                            at,
                            "TRANSFER",
                            -transfer.value,
                            balance,
                            f"Transferência para conta bancária - {account.store.legal_name}",
                            transfer_id=transfer.transfer_id,
                        )
                    )
                    for pid in waiting:
                        self.payout_of[pid] = transfer.transfer_id
                    waiting = []
                    continue
                balance += value
                if kind == "PAYMENT_RECEIVED":
                    waiting.append(payment_id)
                item_id = f"ft_{_alnum(rng, 14)}"
                items.append(
                    StatementItem(item_id, account.name, at, kind, value, balance, text, payment_id, split_id=split_id)
                )
            self.statements[account.name] = items

    def _transfer(
        self, account: AsaasAccount, at: datetime, value: Decimal, fee: Decimal, rng: random.Random
    ) -> AsaasTransfer:
        day = sp_date(at)
        effective = day if account.operation_type == "PIX" else add_business_days(day, 1)
        e2e = None
        if account.operation_type == "PIX":
            e2e = f"E{ASAAS_ISPB}{day:%Y%m%d}2100{_alnum(rng, 11)}"
        transfer = AsaasTransfer(
            transfer_id=uuid4(rng),
            account=account.name,
            created_at=at,
            value=value,
            fee=fee,
            operation_type=account.operation_type,
            schedule_date=day,
            effective_date=effective,
            end_to_end_id=e2e,
        )
        self.transfers.append(transfer)
        return transfer

    # ---------------------------------------------------------------------------------- bank

    def payout_facts(self) -> list[PayoutFacts]:
        """The rules' payouts: A = netValue, D = effectiveDate (else scheduleDate, when not done yet)."""
        account_of = {a.name: a for a in self.accounts}
        facts = []
        for t in self.transfers:
            account = account_of[t.account]
            done = t.effective_date < self.as_of
            facts.append(
                PayoutFacts(
                    NAME,
                    account.tenant_id,
                    account.name,
                    account.account_id,
                    t.transfer_id,
                    t.net_value,
                    t.effective_date if done else t.schedule_date,
                )
            )
        return facts

    def _credits(self) -> None:
        rng = stream(self.config.seed, NAME, "payouts")
        transfers = {t.transfer_id: t for t in self.transfers}
        for payout in self.payout_facts():
            transfer = transfers[payout.payout_id]
            if transfer.effective_date >= self.as_of:
                continue  # not done yet: nothing can reach the bank
            fault = draw_fault(rng, self.config.payout_fault_rate)
            self.planned.extend(plan_credits(rng, payout, payer_for(transfer.operation_type), fault))

    # --------------------------------------------------------------------------------- build

    def build(self) -> None:
        orders = self._orders()
        fates, timelines = self._timelines(orders)
        extra = self._guarantee_awaiting_payout(orders, fates, timelines)
        if extra is not None:
            t = _Timeline(confirmed_at=extra.created_at + timedelta(minutes=3))
            orders.append(extra)
            fates.append(_Fate())
            timelines.append(t)
        self._payments(orders, timelines)
        self._statements()
        self._credits()


def _label(p: AsaasPayment) -> str:
    """How the statement names a payment: its invoice number and description."""
    suffix = f" (parcela {p.installment_number}/{p.installment_count})" if p.installment_number else ""
    return f"fatura nr. {p.invoice_number}{suffix}"
