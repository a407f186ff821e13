"""PushinPay's part in building a world: each store's PushinPay account, its PIX charges, their fates,
PushinPay's daily sweeps into the store's bank account, and the generic facts of the rules.

Every draw comes from streams labelled `pushinpay` (`sandbox.core.streams.stream(seed, "pushinpay",
…)`), never from the shared parties stream `sign_up` is handed, so adding PushinPay moves no other
platform's facts (only the bank statements, which gain PushinPay's credits).

The story, per store (docs/sandbox-world.md, "PushinPay"):

1. each business day the checkout sells about `pushinpay_orders_per_day` orders of the tenant's
   catalogue (`sandbox.core.payments.checkout`), each paid by PIX through a charge created with
   `POST /api/pix/cashIn`: `value` = the gross in centavos, `webhook_url` = the checkout's receiver
   with the order, product and affiliate in its query, and, when an affiliate brought the order,
   one split rule paying the affiliate's commission (the rules' split model) to the affiliate's
   PushinPay account — on `split_mismatch_rate` of them a different amount;
2. a share `payment_expired_rate` is never paid: the charge stays `created` until its QR code
   expires (`pushinpay_charge_ttl_hours` after creation), then turns `pushinpay_unpaid_status`
   (`canceled` by default); one created in the last hours of the world is still pending;
3. the others are paid 20 s – 15 min after creation (the same São Paulo day); `refund_rate` of
   them are refunded before their release (PushinPay refunds only a balance it still holds:
   `refund_after_payout_share` does not apply, nor do `payment_failed_rate` and
   `chargeback_rate`: a PIX charge is never declined nor charged back);
4. PushinPay reports no fee: the fee is the tenant's contract (`FeeScheduleRow`, method `pix`,
   a percent and a fixed part, `release_days` = `pushinpay_release_days`; one tenant's contract
   changes in the middle of the world). On `overcharge_rate` of the paid charges PushinPay keeps
   R$ 0.20–3.00 more than the contract; nothing on its wire shows it, only its sweep is short;
5. a paid charge is released on R = add_business_days(paid date, release_days); every business
   day PushinPay sweeps the store's released balance to its bank by PIX: one payout per (account,
   R) with R before `as_of`, A = Σ (value − contracted fee − split) of the charges still `paid`
   released that day (docs/payment-reconciliation-rules.md), paid as `A` − the day's over-charges,
   and through `draw_fault` / `plan_credits` (late, short, missing, doubled, split, rounding).

Floors: in a world of at least 20 charges every positive rate above happens at least once (one
pending and one lapsed charge, one refund, one over-charge on a swept charge, one split mismatch).
"""

from __future__ import annotations

import random
import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from sandbox.core.bank import PlannedCredit
from sandbox.core.calendar import SAO_PAULO, add_business_days, is_business_day
from sandbox.core.ids import digits_only, new_cpf, secret, uuid4
from sandbox.core.money import from_cents, q, to_cents
from sandbox.core.parties import ClientCredentials, Parties, Store, new_client_credentials
from sandbox.core.payments.checkout import Catalogue, CheckoutOrder, SplitRate, catalogue, draw_order
from sandbox.core.payments.facts import FeeScheduleRow, PaymentFacts, PayoutFacts
from sandbox.core.payments.payouts import credit_facts, draw_fault, plan_credits
from sandbox.core.platform import PostedBank
from sandbox.core.streams import stream
from sandbox.providers.pushinpay import NAME
from sandbox.providers.pushinpay.facts import PushinpayFacts
from sandbox.providers.pushinpay.knobs import PushinpayKnobs
from sandbox.providers.pushinpay.payer import PUSHINPAY_PAYER
from sandbox.providers.pushinpay.records import PixCharge, PushinpayAccount, SplitRule
from sandbox.providers.pushinpay.wire import pix_emv

CONTRACT_START = date(2015, 1, 1)
# Contracted PIX fees (percent of gross, fixed reais): illustrative, PushinPay publishes no price list.
PERCENT_FEES = ("0.00", "0.49", "0.99")
FIXED_FEES = ("0.49", "0.79", "0.99", "1.49")
FLOOR_MIN_CHARGES = 20
GRACE_DAYS = 3  # the rules' default grace_days: where a "late" payout lands
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# ISPBs of the payers' banks (Banco do Brasil, Itaú, Bradesco, Caixa, Nubank, Santander) for end_to_end_id.
_PAYER_ISPBS = ("00000000", "60701190", "60746948", "00360305", "18236120", "90400888")
_PAYER_FIRST = ("MARIA", "JOSE", "ANA", "JOAO", "FRANCISCA", "ANTONIO", "ADRIANA", "CARLOS", "JULIANA", "PAULO")
_PAYER_LAST = ("SILVA", "SANTOS", "OLIVEIRA", "SOUZA", "LIMA", "PEREIRA", "COSTA", "RODRIGUES", "ALMEIDA", "NUNES")


def sanctum_token(rng: random.Random) -> str:
    """A Laravel Sanctum personal access token as PushinPay issues them: `<id>|<40 letters/digits><crc32b hex>`.

    Every PushinPay token seen in third-party code has this shape (e.g. `41909|sPaC…yeZEY772f30ae`,
    whose last 8 hex digits are the CRC32 of the 40 characters before them).
    """
    entropy = "".join(rng.choice(_TOKEN_ALPHABET) for _ in range(40))
    return f"{rng.randrange(10_000, 100_000)}|{entropy}{zlib.crc32(entropy.encode()):08x}"


def slug(text: str) -> str:
    """`Açaí Central 1.2` → `acai-central-1-2`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def mask_cpf(cpf: str) -> str:
    """`038.123.456-39` → `038******39`, as PushinPay shows a payer's CPF."""
    digits = digits_only(cpf)
    return f"{digits[:3]}******{digits[-2:]}"


def affiliate_commission(cat: Catalogue, order: CheckoutOrder, day: date) -> int:
    """The rules' split model for the order's affiliate, in centavos (docs/payment-reconciliation-rules.md, "Splits")."""
    rate = cat.rates_on(order.product_id, day)
    platform_fee = q(order.gross * rate.platform_fee_rate)
    return to_cents(q((order.gross - platform_fee) * rate.affiliate_rate))


def contracted_fee(rows: Sequence[FeeScheduleRow], tenant_id: str, gross: Decimal, day: date) -> tuple[int, int]:
    """(fee in centavos, release_days) of the tenant's PIX contract row valid on `day`."""
    for row in rows:
        if row.tenant_id == tenant_id and row.covers("pix", 1, day):
            return to_cents(q(gross * row.percent_fee / 100 + row.fixed_fee)), int(row.release_days or 0)
    raise LookupError(f"{tenant_id}: no PushinPay fee schedule covers {day}")


@dataclass
class _Draft:
    """A charge while the generator decides its fate: its raw draws, then the flags the rates (and floors) set."""

    account: PushinpayAccount
    order: CheckoutOrder
    charge_id: str
    pix_id: str
    location_id: str
    affiliate_account: str | None
    model_split: int  # centavos; 0 without an affiliate
    pay_delay_ms: int
    refund_fraction: float
    overcharge_cents: int
    mismatch_delta: int  # centavos, signed
    payer_name: str
    payer_cpf: str
    payer_ispb: str
    e2e_suffix: str
    unpaid: bool = False
    refund: bool = False
    overcharge: bool = False
    mismatch: bool = False


class PushinpayGenerator:
    """Generates one world's PushinPay facts (the `PlatformGenerator` of sandbox.core.platform)."""

    def __init__(self, config: PushinpayKnobs) -> None:
        self.config = config
        self.world_end = datetime.combine(config.as_of, time(), SAO_PAULO)
        self._accounts: tuple[PushinpayAccount, ...] = ()
        self._account_by_name: dict[str, PushinpayAccount] = {}
        self._charges: tuple[PixCharge, ...] = ()
        self._fee_schedules: tuple[FeeScheduleRow, ...] = ()
        self._split_rates: tuple[SplitRate, ...] = ()
        self._payments: tuple[PaymentFacts, ...] = ()
        self._payouts: tuple[PayoutFacts, ...] = ()
        self._planned: list[PlannedCredit] = []

    # --------------------------------------------------------------------------- world steps

    def sign_up(self, tenant_id: str, rng: random.Random) -> ClientCredentials:
        """The tenant's PushinPay panel login (the API knows only each account's token, see `plan`).

        Drawn from PushinPay's own stream: `rng` is the shared parties stream of the platforms the
        first worlds were built with, and drawing from it would move their worlds.
        """
        return new_client_credentials(stream(self.config.seed, NAME, "sign-up", tenant_id))

    def plan(self, parties: Parties) -> Sequence[PlannedCredit]:
        """Accounts, charges and their fates, sweeps; returns the PIX credits PushinPay pays the stores."""
        cfg = self.config
        tenants = [t.tenant_id for t in parties.tenants]
        self._fee_schedules = tuple(row for i, t in enumerate(tenants) for row in self._contract(t, i))
        catalogues = {t: catalogue(cfg.seed, t, cfg.start, cfg.days) for t in tenants}
        self._split_rates = tuple(rate for t in tenants for rate in catalogues[t].split_rates)
        self._accounts = self._open_accounts(parties.stores)
        self._account_by_name = {a.name: a for a in self._accounts}
        drafts: list[_Draft] = []
        for account in self._accounts:
            drafts.extend(self._draft_charges(account, catalogues[account.tenant_id]))
        self._apply_floors(drafts)
        self._charges = tuple(self._settle(d) for d in drafts)
        self._payments = tuple(self._payment(c) for c in self._charges)
        self._payouts, self._planned = self._sweeps()
        return list(self._planned)

    def finish(self, bank: PostedBank) -> PushinpayFacts:
        """The facts, with the bank transactions PushinPay's posted credits became."""
        return PushinpayFacts(
            platform=NAME,
            as_of=self.config.as_of,
            # a charge nobody has paid yet was never notified (PushinPay sends no webhook on
            # creation) and cannot be listed: the warehouse cannot know it, so the rules do not judge it
            payments=tuple(p for p in self._payments if p.status != "pending"),
            payouts=self._payouts,
            credits=credit_facts(NAME, bank.posted, self._planned),
            fee_schedules=self._fee_schedules,
            split_rates=self._split_rates,
            accounts=self._accounts,
            charges=self._charges,
            world_end=self.world_end,
        )

    # --------------------------------------------------------------------------- contracts, accounts

    def _contract(self, tenant_id: str, index: int) -> list[FeeScheduleRow]:
        """The tenant's PIX fee schedule at PushinPay; the first tenant renegotiates it mid-world."""
        cfg = self.config
        rng = stream(cfg.seed, NAME, "contract", tenant_id)
        percent, fixed = Decimal(rng.choice(PERCENT_FEES)), Decimal(rng.choice(FIXED_FEES))

        def row(pct: Decimal, fix: Decimal, start: date, end: date | None) -> FeeScheduleRow:
            return FeeScheduleRow(tenant_id, NAME, "pix", 1, 1, pct, fix, cfg.pushinpay_release_days, start, end)

        if index != 0 or cfg.days < 2:
            return [row(percent, fixed, CONTRACT_START, None)]
        change = cfg.start + timedelta(days=max(1, cfg.days // 2))
        cheaper = max(Decimal("0.19"), fixed - Decimal("0.20"))
        return [
            row(percent, fixed, CONTRACT_START, change - timedelta(days=1)),
            row(percent, cheaper, change, None),
        ]

    def _open_accounts(self, stores: Sequence[Store]) -> tuple[PushinpayAccount, ...]:
        cfg = self.config
        accounts = []
        index_in_tenant: dict[str, int] = {}
        for position, store in enumerate(stores):
            n = index_in_tenant[store.tenant_id] = index_in_tenant.get(store.tenant_id, -1) + 1
            rng = stream(cfg.seed, NAME, "account", store.tenant_id, n)
            encoding = cfg.pushinpay_webhook_encoding
            if encoding == "mixed":
                encoding = "form" if position % 2 else "json"
            accounts.append(
                PushinpayAccount(
                    tenant_id=store.tenant_id,
                    store=store,
                    name=slug(store.name),
                    account_id=uuid4(rng).upper(),
                    token=sanctum_token(rng),
                    webhook_secret=secret(rng, 32),
                    webhook_encoding=encoding,
                )
            )
        if len({a.name for a in accounts}) != len(accounts) or len({a.token for a in accounts}) != len(accounts):
            raise RuntimeError("PushinPay accounts must have distinct names and tokens")
        return tuple(accounts)

    def _affiliate_account(self, tenant_id: str, affiliate_id: str) -> str:
        """The affiliate's own PushinPay account (split_rules name it), the same for every order."""
        return uuid4(stream(self.config.seed, NAME, "affiliate", tenant_id, affiliate_id)).upper()

    # --------------------------------------------------------------------------- charges

    def _draft_charges(self, account: PushinpayAccount, cat: Catalogue) -> list[_Draft]:
        cfg = self.config
        rng = stream(cfg.seed, NAME, "charges", account.name)
        drafts = []
        for offset in range(cfg.days):
            day = cfg.start + timedelta(days=offset)
            if not is_business_day(day):
                continue
            n = cfg.pushinpay_orders_per_day
            count = rng.randint(n - n // 4, n + n // 4) if n else 0
            for _ in range(count):
                drafts.append(self._draft(rng, account, cat, day))
        drafts.sort(key=lambda d: d.order.created_at)
        cfg_rates = (
            (cfg.payment_expired_rate, "unpaid"),
            (cfg.refund_rate, "refund"),
            (cfg.overcharge_rate, "overcharge"),
            (cfg.split_mismatch_rate, "mismatch"),
        )
        flags = stream(cfg.seed, NAME, "fates", account.name)
        for d in drafts:
            for rate, flag in cfg_rates:  # one draw per rate per charge, whatever the rates: stable fates
                setattr(d, flag, flags.random() < rate)
            d.mismatch = d.mismatch and d.affiliate_account is not None
        return drafts

    def _draft(self, rng: random.Random, account: PushinpayAccount, cat: Catalogue, day: date) -> _Draft:
        cfg = self.config
        order = draw_order(
            rng,
            cat,
            account.store,
            day,
            ("pix",),
            affiliate_share=cfg.affiliate_share,
            bump_rate=cfg.bump_rate,
            coupon_rate=cfg.coupon_rate,
        )
        affiliate = self._affiliate_account(order.tenant_id, order.affiliate_id) if order.affiliate_id else None
        model = affiliate_commission(cat, order, order.order_date) if order.affiliate_id else 0
        delta = rng.randint(2, 500) * (1 if rng.random() < 0.5 else -1)
        return _Draft(
            account=account,
            order=order,
            charge_id=uuid4(rng),
            pix_id=uuid4(rng).upper(),
            location_id=uuid4(rng),
            affiliate_account=affiliate,
            model_split=model,
            pay_delay_ms=rng.randint(20_000, 900_000),
            refund_fraction=rng.random(),
            overcharge_cents=rng.randint(20, 300),
            mismatch_delta=delta,
            payer_name=f"{rng.choice(_PAYER_FIRST)} {rng.choice(_PAYER_LAST)} {rng.choice(_PAYER_LAST)}",
            payer_cpf=new_cpf(rng),
            payer_ispb=rng.choice(_PAYER_ISPBS),
            e2e_suffix="".join(rng.choice(_ALNUM) for _ in range(11)),
        )

    # what a draft becomes, given its flags

    def _paid_at(self, d: _Draft) -> datetime:
        paid = d.order.created_at + timedelta(milliseconds=d.pay_delay_ms)
        if paid.astimezone(SAO_PAULO).date() != d.order.order_date:  # never: orders end at 23:00
            raise RuntimeError("a PushinPay charge must be paid on its creation day")
        return paid

    def _release(self, paid_at: datetime) -> date:
        return add_business_days(paid_at.astimezone(SAO_PAULO).date(), self.config.pushinpay_release_days)

    def _refund_window(self, d: _Draft) -> tuple[datetime, datetime] | None:
        """When a refund can happen: after the payment, before its release day and the world's end."""
        paid = self._paid_at(d)
        start = paid + timedelta(seconds=60)
        end = min(datetime.combine(self._release(paid), time(), SAO_PAULO), self.world_end)
        return (start, end) if end - start > timedelta(seconds=60) else None

    def _expires_at(self, d: _Draft) -> datetime:
        return d.order.created_at + timedelta(hours=self.config.pushinpay_charge_ttl_hours)

    def _executed_split(self, d: _Draft, value: int) -> int:
        if not d.mismatch:
            return d.model_split
        for delta in (d.mismatch_delta, -d.mismatch_delta):
            executed = d.model_split + delta
            if 1 <= executed <= value // 2:  # PushinPay splits at most 50 % of the value
                return executed
        return d.model_split

    def _apply_floors(self, drafts: list[_Draft]) -> None:
        """At least one of each fate a positive rate asks for, in a world big enough to test on."""
        cfg = self.config
        if len(drafts) < FLOOR_MIN_CHARGES:
            return
        rng = stream(cfg.seed, NAME, "floors")

        def pick(candidates: list[_Draft]) -> _Draft | None:
            return rng.choice(candidates) if candidates else None

        if cfg.payment_expired_rate > 0:
            unpaid = [d for d in drafts if d.unpaid]
            if not any(self._expires_at(d) > self.world_end for d in unpaid):
                latest = [d for d in drafts if self._expires_at(d) > self.world_end]
                if latest:
                    max(latest, key=lambda d: d.order.created_at).unpaid = True
            if not any(self._expires_at(d) <= self.world_end for d in unpaid):
                chosen = pick([d for d in drafts if self._expires_at(d) <= self.world_end])
                if chosen:
                    chosen.unpaid = True
        paid = [d for d in drafts if not d.unpaid]
        if cfg.refund_rate > 0 and not any(d.refund and self._refund_window(d) for d in paid):
            chosen = pick([d for d in paid if self._refund_window(d) and not d.overcharge])
            if chosen:
                chosen.refund = True
        swept = [d for d in paid if not d.refund and self._release(self._paid_at(d)) < cfg.as_of]
        if cfg.overcharge_rate > 0 and not any(d.overcharge for d in swept):
            chosen = pick(swept)
            if chosen:
                chosen.overcharge = True
        if cfg.split_mismatch_rate > 0 and not any(d.mismatch for d in paid):
            chosen = pick([d for d in paid if d.affiliate_account is not None])
            if chosen:
                chosen.mismatch = True

    def _settle(self, d: _Draft) -> PixCharge:
        """The charge as PushinPay keeps it, from the draft's draws and fate."""
        cfg = self.config
        order = d.order
        value = to_cents(order.gross)
        query = {"order": order.order_id, "product": order.product_id}
        if order.affiliate_id:
            query["affiliate"] = order.affiliate_id
        webhook_url = f"https://checkout.{order.tenant_id}.example/webhooks/{NAME}?{urlencode(query)}"
        rules: tuple[SplitRule, ...] = ()
        if d.affiliate_account is not None:
            rules = (SplitRule(self._executed_split(d, value), d.affiliate_account),)
        paid_at = refunded_at = release = None
        fee = overcharge = 0
        e2e = payer_name = payer_document = None
        if not d.unpaid:
            paid_at = self._paid_at(d)
            release = self._release(paid_at)
            fee, _ = contracted_fee(self._fee_schedules, order.tenant_id, order.gross, order.order_date)
            window = self._refund_window(d)
            if d.refund and window is not None:
                start, end = window
                refunded_at = start + timedelta(
                    milliseconds=int((end - start).total_seconds() * 1000 * d.refund_fraction)
                )
            if d.overcharge and refunded_at is None:
                overcharge = d.overcharge_cents
            e2e = f"E{d.payer_ispb}{paid_at.astimezone(UTC):%Y%m%d%H%M}{d.e2e_suffix}"
            payer_name, payer_document = d.payer_name, mask_cpf(d.payer_cpf)
        return PixCharge(
            id=d.charge_id,
            account=d.account.name,
            tenant_id=order.tenant_id,
            order=order,
            value=value,
            webhook_url=webhook_url,
            split_rules=rules,
            pix_id=d.pix_id,
            emv=pix_emv(d.location_id),
            created_at=order.created_at,
            expires_at=self._expires_at(d),
            paid_at=paid_at,
            refunded_at=refunded_at,
            unpaid_status=cfg.pushinpay_unpaid_status,
            end_to_end_id=e2e,
            payer_name=payer_name,
            payer_national_registration=payer_document,
            contracted_fee=fee,
            overcharge=overcharge,
            release=release,
        )

    # --------------------------------------------------------------------------- generic facts, sweeps

    def _payment(self, charge: PixCharge) -> PaymentFacts:
        """The charge as the rules see it (the PushinPay column of docs/payment-reconciliation-rules.md)."""
        account = self._account_by_name[charge.account]
        state = charge.state_at(self.world_end)
        assert state is not None
        status = {"created": "pending", "paid": "paid", "refunded": "refunded"}.get(state[0], "expired")
        took_money = status in ("paid", "refunded")
        payout_id = None
        if status == "paid" and charge.release is not None and charge.release < self.config.as_of:
            payout_id = self.payout_id(account.name, charge.release)
        return PaymentFacts(
            platform=NAME,
            tenant_id=charge.tenant_id,
            integration=account.name,
            bank_account_id=account.store.account_id,
            payment_id=charge.id,
            order=charge.order,
            installments=1,
            status=status,
            gross=from_cents(charge.value),
            fee=from_cents(charge.contracted_fee if took_money else 0),
            split_withheld=from_cents(charge.split_total),
            paid_at=charge.paid_at,
            expected_release=charge.release if took_money else None,
            refunded_at=charge.refunded_at,
            payout_id=payout_id,
        )

    @staticmethod
    def payout_id(account_name: str, release: date) -> str:
        """The rules' id of a PushinPay sweep: `'pushinpay:' ∥ integration ∥ R`."""
        return f"{NAME}:{account_name}:{release.isoformat()}"

    def _sweeps(self) -> tuple[tuple[PayoutFacts, ...], list[PlannedCredit]]:
        """One payout per (account, release day before as_of); its credits, short by the day's over-charges."""
        cfg = self.config
        by_payout: dict[str, list[tuple[PaymentFacts, PixCharge]]] = {}
        for payment, charge in zip(self._payments, self._charges, strict=True):
            if payment.payout_id is not None:
                by_payout.setdefault(payment.payout_id, []).append((payment, charge))
        payouts: list[PayoutFacts] = []
        planned: list[PlannedCredit] = []
        for account in self._accounts:
            rng = stream(cfg.seed, NAME, "sweeps", account.name)
            ids = sorted(k for k in by_payout if k.startswith(f"{NAME}:{account.name}:"))
            for payout_id in ids:
                members = by_payout[payout_id]
                release = members[0][1].release
                assert release is not None
                amount = sum((p.net for p, _ in members), Decimal("0.00"))
                payout = PayoutFacts(
                    NAME, account.tenant_id, account.name, account.store.account_id, payout_id, amount, release
                )
                payouts.append(payout)
                kept = from_cents(sum(c.overcharge for _, c in members))
                fault = draw_fault(rng, cfg.payout_fault_rate)
                sent = replace(payout, amount=amount - kept)
                planned.extend(plan_credits(rng, sent, PUSHINPAY_PAYER, fault, grace_days=GRACE_DAYS))
        return tuple(payouts), planned
