"""The sandbox's Asaas world: knobs, determinism, its own streams, the story's invariants, its credentials.

The ground truth (`World.ground_truth()`) is not called here: it belongs to the shared payments core.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

import pytest
from served_sandbox import SMALL, world_of

from sandbox.core.calendar import SAO_PAULO, is_business_day
from sandbox.core.ids import is_valid_cnpj
from sandbox.core.money import q
from sandbox.providers.asaas.contract import contracted_fee
from sandbox.providers.asaas.generator import AsaasGenerator
from sandbox.providers.asaas.payer import ASAAS_CNPJ
from sandbox.providers.asaas.story import SWEEP_AT
from sandbox.world import World, WorldConfig

KEY = re.compile(r"\$aact_hmlg_000[A-Za-z0-9+/]+=*")


def _facts(world: World):
    return world.facts["asaas"]


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"asaas_orders_per_day": -1}, "asaas_orders_per_day must be between 0"),
        ({"asaas_orders_per_day": 2.5}, "asaas_orders_per_day must be a whole number"),
        ({"asaas_card_credit_days": 0}, "asaas_card_credit_days must be between 1"),
        ({"asaas_boleto_credit_days": 31}, "asaas_boleto_credit_days must be between 0 and 30"),
        ({"refund_rate": 1.5}, "refund_rate must be between 0 and 1"),
    ],
)
def test_bad_asaas_knobs_are_refused(knobs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        WorldConfig(**knobs)


def test_the_same_seed_gives_the_same_asaas_facts_and_other_platforms_do_not_move() -> None:
    small = world_of(SMALL)
    again = World(SMALL)
    assert again.digest() == small.digest()
    assert list(_facts(again).digest_parts()) == list(_facts(small).digest_parts())
    busier = World(replace(SMALL, asaas_orders_per_day=9))
    # the other platforms' facts stay (the shared ledger's transaction ids move with every credit posted)
    assert busier.facts["ifood"].orders == small.facts["ifood"].orders
    assert busier.facts["ifood"].merchants == small.facts["ifood"].merchants
    assert list(busier.facts["pluggy"].digest_parts()) == list(small.facts["pluggy"].digest_parts())
    assert busier.credentials("")["tenants"][0]["ifood"] == small.credentials("")["tenants"][0]["ifood"]
    assert _facts(busier).summary() != _facts(small).summary()


def test_sign_up_never_draws_from_the_shared_parties_stream() -> None:
    rng = random.Random(5)
    before = rng.getstate()
    credentials = AsaasGenerator(SMALL).sign_up("tenant-001", rng)
    assert rng.getstate() == before
    assert credentials == AsaasGenerator(SMALL).sign_up("tenant-001", random.Random(6))
    assert KEY.fullmatch(credentials.client_secret)


def test_credentials_name_one_account_per_store_exactly() -> None:
    world = world_of(SMALL)
    for tenant, listed in zip(world.tenants, world.credentials("")["tenants"], strict=True):
        accounts = listed["asaas"]["accounts"]
        assert list(listed["asaas"]) == ["accounts"]
        assert [a["store"] for a in accounts] == [s.name for s in tenant.stores]
        for account, store in zip(accounts, tenant.stores, strict=True):
            assert list(account) == ["name", "api_key", "payout_documents", "webhook_secret", "store"]
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", account["name"])
            assert KEY.fullmatch(account["api_key"])
            assert account["payout_documents"] == [store.cnpj]
            assert re.fullmatch(r"[A-Za-z0-9]{48}", account["webhook_secret"])
    keys = [a.api_key for a in _facts(world).accounts]
    assert len(set(keys)) == len(keys) == len(world.stores)


def test_a_world_asked_for_no_asaas_orders_has_no_asaas_payments() -> None:
    """The payment awaiting the next transfer is added only to a world that has orders."""
    facts = _facts(World(replace(SMALL, asaas_orders_per_day=0)))
    assert facts.asaas_payments == () and facts.payments == () and facts.transfers == ()
    assert all(items == () for items in facts.statements.values())
    assert len(facts.accounts) == SMALL.tenants * SMALL.stores_per_tenant, "the accounts are still opened"


def test_installment_plans_split_the_gross_with_the_remainder_on_the_first() -> None:
    facts = _facts(world_of(SMALL))
    plans: dict[str, list] = defaultdict(list)
    for p in facts.asaas_payments:
        if p.installment_id:
            plans[p.installment_id].append(p)
        else:
            assert p.installment_count == 1 and p.installment_number is None
    assert plans, "the small world has card installment plans"
    for payments in plans.values():
        order = payments[0].order
        n = order.installments
        assert sorted(p.installment_number for p in payments) == list(range(1, n + 1))
        assert sum(p.value for p in payments) == order.gross
        rest = [p.value for p in payments if p.installment_number != 1]
        first = next(p.value for p in payments if p.installment_number == 1)
        assert len(set(rest)) == 1 and rest[0] == Decimal(int(order.gross * 100) // n).scaleb(-2)
        assert first == order.gross - rest[0] * (n - 1)
        confirmed = payments[0].confirmed_at
        if confirmed is not None:
            paid_day = confirmed.astimezone(SAO_PAULO).date()
            for p in payments:
                assert p.estimated_credit_date is not None and is_business_day(p.estimated_credit_date)
                assert (p.estimated_credit_date - paid_day).days >= 30 * p.installment_number


def test_fees_follow_the_contract_except_the_overcharges_and_splits_follow_the_model() -> None:
    world = world_of(SMALL)
    facts = _facts(world)
    overcharged = mismatched = 0
    for p, generic in zip(facts.asaas_payments, facts.payments, strict=True):
        assert generic.payment_id == p.payment_id
        day = (generic.paid_at or p.created_at).astimezone(SAO_PAULO).date()
        contract = contracted_fee(facts.fee_schedules, generic.tenant_id, p.method, p.installment_count, day, p.value)
        if generic.status in ("paid", "refunded", "charged_back"):
            overcharged += p.fee != contract
            assert p.fee >= contract
        else:
            assert p.fee == contract
        if p.split is None:
            assert generic.split_withheld == 0
            continue
        assert p.order.affiliate_id and generic.split_withheld == p.split.fixed_value
        rate = _rate(facts.split_rates, generic.tenant_id, p.order.product_id, day)
        model = q((p.value - q(p.value * rate.platform_fee_rate)) * rate.affiliate_rate)
        mismatched += p.split.fixed_value != model
    assert overcharged >= 1 and mismatched >= 1
    pix = {(r.tenant_id, r.valid_from, r.fixed_fee) for r in facts.fee_schedules if r.method == "pix"}
    assert len({fee for tenant, _, fee in pix if tenant == "tenant-001"}) == 2, "one tenant's PIX fee changes mid-world"
    assert world.contracts()["fee_schedules"] and world.contracts()["split_rates"]


def test_the_statement_runs_and_every_transfer_sweeps_the_balance() -> None:
    facts = _facts(world_of(SMALL))
    transfers = {t.transfer_id: t for t in facts.transfers}
    for name, items in facts.statements.items():
        balance = Decimal("0.00")
        for item in items:
            balance += item.value
            assert item.balance == balance
            if item.kind == "TRANSFER":
                t = transfers[item.transfer_id]
                assert item.value == -t.value and balance == 0 and t.account == name
                local = item.at.astimezone(SAO_PAULO)
                assert (local.hour, local.minute) == (SWEEP_AT.hour, SWEEP_AT.minute)
                assert is_business_day(local.date())
        assert [i.at for i in items] == sorted(i.at for i in items)


def test_payouts_are_the_transfers_and_the_bank_credits_come_from_asaas() -> None:
    world = world_of(SMALL)
    facts = _facts(world)
    transfers = {t.transfer_id: t for t in facts.transfers}
    assert {x.payout_id for x in facts.payouts} == set(transfers)
    for payout in facts.payouts:
        t = transfers[payout.payout_id]
        assert payout.amount == t.value - t.fee
        assert payout.date == (t.effective_date if t.effective_date < world.as_of else t.schedule_date)
    assert is_valid_cnpj(ASAAS_CNPJ)
    posted = {c.transaction_id for c in facts.credits}
    for ledger in world.ledgers.values():
        for credit in ledger.payouts:
            if credit.payout in transfers:
                assert credit.payer.document == ASAAS_CNPJ
    assert posted and all(c.date < world.as_of for c in facts.credits)


def test_every_fate_occurs_and_a_payment_awaits_the_next_transfer() -> None:
    world = world_of(WorldConfig())
    facts = _facts(world)
    statuses = {p.status for p in facts.payments}
    assert statuses == {"paid", "pending", "failed", "expired", "refunded", "charged_back"}
    transfers = {t.transfer_id: t for t in facts.transfers}
    after = [
        p
        for p in facts.payments
        if p.status == "refunded" and p.payout_id and p.refunded_at.astimezone(SAO_PAULO).date() > _d(transfers, p)
    ]
    assert after, "a refund after its payout"
    credited = {p.payment_id for p in facts.asaas_payments if p.credited_at is not None}
    awaiting = [p for p in facts.payments if p.status == "paid" and p.payment_id in credited and p.payout_id is None]
    assert awaiting, "a payment credited after the last transfer of the world"
    assert any(p.expected_release and p.expected_release >= world.as_of for p in facts.payments if p.status == "paid")


def _d(transfers, p):
    return transfers[p.payout_id].effective_date


def _rate(rates, tenant_id, product_id, day):
    """The split contract row of the rules: the product's own valid row, else the tenant's default."""
    for wanted in (product_id, None):
        for rate in rates:
            if rate.tenant_id == tenant_id and rate.product_id == wanted and rate.covers(day):
                return rate
    raise LookupError(product_id)
