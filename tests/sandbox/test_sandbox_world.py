"""The world as a whole: its knobs, determinism, tenants and stores, the shared bank ledger, the calendar.

Each platform's own facts are tested under tests/sandbox/providers/<name>/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import fields
from datetime import date, datetime

import pytest
from served_sandbox import world_of

from sandbox.core.bank import KIND_PAYOUT, UUID_BITS, Payer
from sandbox.core.calendar import add_business_days, business_days_between, is_business_day, roll_forward
from sandbox.core.ids import format_uuid, is_valid_cnpj, is_valid_cpf, uuid4_int
from sandbox.core.knobs import BankKnobs, WorldKnobs
from sandbox.registry import PLATFORMS
from sandbox.world import World, WorldConfig

DEFAULT = world_of(WorldConfig())  # the demo's world; several tests read it


# ------------------------------------------------------------------------------------ config


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"tenants": 0}, "tenants must be between 1"),
        ({"days": -1}, "days must be between 1"),
        ({"orders_per_day": 1.5}, "orders_per_day must be a whole number"),
        ({"stores_per_tenant": True}, "stores_per_tenant must be a whole number"),
        ({"sales_only_rate": 1.2}, "sales_only_rate must be between 0 and 1"),
        ({"divergent_rate": "a lot"}, "divergent_rate must be a number"),
        ({"sales_only_rate": 0.6, "cancelled_rate": 0.6}, "must not exceed 1"),
        ({"start": "2026-10-01"}, "start must be a date"),
        ({"start": datetime(2026, 10, 1)}, "start must be a date"),
        ({"start": date(1900, 1, 1)}, "start must be between 1971-01-01 and 9000-01-01"),
        ({"seed": None}, "seed must be a whole number"),
        ({"bank_noise_per_day": -4}, "bank_noise_per_day must be between 0"),
        ({"payout_schedule": "monthly"}, "payout_schedule must be one of daily, weekly"),
        ({"anticipation_rate": -0.1}, "anticipation_rate must be between 0 and 1"),
        ({"partial_payment_rate": "x"}, "partial_payment_rate must be a number"),
        ({"refund_after_payment_rate": 2}, "refund_after_payment_rate must be between 0 and 1"),
        ({"orphan_event_rate": None}, "orphan_event_rate must be a number"),
        ({"unlisted_settlement_rate": 1.5}, "unlisted_settlement_rate must be between 0 and 1"),
        ({"divergent_rate": 0.5, "anticipation_rate": 0.6}, "must not exceed 1"),
    ],
)
def test_bad_knobs_are_refused_with_a_clear_message(knobs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        WorldConfig(**knobs)


def test_the_config_is_the_world_knobs_then_each_platforms_then_the_banks() -> None:
    """One flat dataclass composed from the registry: every platform's knobs are WorldConfig fields."""
    world = [f.name for f in fields(WorldKnobs)]
    bank = [f.name for f in fields(BankKnobs) if f.name not in world]
    platforms = [f.name for p in PLATFORMS if p.knobs is not None for f in fields(p.knobs) if f.name not in world]
    names = list(WorldConfig.knob_names())
    # the world's knobs first, the bank's last, every platform knob once between them (the
    # checkout's knobs, which every gateway extends, are one set of fields shared by all of them)
    assert names[: len(world)] == world and names[len(names) - len(bank) :] == bank
    middle = names[len(world) : len(names) - len(bank)]
    assert len(middle) == len(set(middle)) and set(middle) == set(platforms)
    assert all(f.metadata.get("metavar") and f.metadata.get("help") for f in fields(WorldConfig))
    assert WorldConfig().to_dict()["start"] == "2026-10-01"


def test_as_of_is_the_day_after_the_last_business_day() -> None:
    assert WorldConfig(start=date(2026, 10, 1), days=30).as_of == date(2026, 10, 31)


# ------------------------------------------------------------------------------- determinism


def test_the_same_config_gives_a_byte_identical_world() -> None:
    again = World(WorldConfig())
    assert again.digest() == DEFAULT.digest()
    assert again.credentials("http://x") == DEFAULT.credentials("http://x")
    assert again.ground_truth() == DEFAULT.ground_truth()


def test_the_world_does_not_depend_on_the_process() -> None:
    """Hash randomisation differs per process; the world must not (no iteration over sets of str)."""
    script = "from sandbox.world import World, WorldConfig; print(World(WorldConfig(days=5)).digest())"
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for seed in (1, 2)
    }
    assert digests == {World(WorldConfig(days=5)).digest()}


def test_another_seed_gives_another_world_and_streams_are_independent() -> None:
    other = World(WorldConfig(seed=43))
    assert other.digest() != DEFAULT.digest()
    first = PLATFORMS[0].name
    assert (
        other.credentials("")["tenants"][0][first]["client_id"]
        != DEFAULT.credentials("")["tenants"][0][first]["client_id"]
    )
    noisier = World(WorldConfig(bank_noise_per_day=9))
    ifood = [r["order_id"] for r in DEFAULT.facts["ifood"].ground_truth()]
    assert [r["order_id"] for r in noisier.facts["ifood"].ground_truth()] == ifood
    assert noisier.credentials("") == DEFAULT.credentials("")


# ------------------------------------------------------------------------------- parties


def test_tenants_and_stores_are_well_formed_and_unique() -> None:
    stores = DEFAULT.stores
    assert [t.tenant_id for t in DEFAULT.tenants] == ["tenant-001", "tenant-002"]
    assert all(set(t.credentials) == {p.name for p in PLATFORMS} for t in DEFAULT.tenants)
    for store in stores:
        assert re.fullmatch(r"\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}", store.cnpj) and is_valid_cnpj(store.cnpj)
        assert uuid.UUID(store.account_id).version == 4
        assert re.fullmatch(r"\d{5}-\d", store.account.account_number)
    assert len({s.cnpj for s in stores}) == len(stores)
    assert len({s.account_id for s in stores}) == len(stores) == len(DEFAULT.ledgers)
    assert all(is_valid_cpf(c.document) for c in DEFAULT.counterparties.customers)


def test_fast_uuid_path_matches_the_uuid_module() -> None:
    for bits in (0, (1 << 128) - 1, 0x0123456789ABCDEF0123456789ABCDEF):
        assert uuid4_int(bits) == uuid.UUID(int=bits, version=4).int
        assert format_uuid(uuid4_int(bits)) == str(uuid.UUID(int=bits, version=4))


# ------------------------------------------------------------------------------- the bank


def test_the_bank_ledger_is_ordered_balanced_and_its_payouts_name_their_payer() -> None:
    cfg = DEFAULT.config
    for store in DEFAULT.stores:
        ledger = DEFAULT.ledgers[store.account_id]
        assert ledger.keys == sorted(ledger.keys)
        assert len(ledger) >= cfg.days * cfg.bank_noise_per_day
        running = ledger.opening_balance_cents
        for amount, balance in zip(ledger.amount, ledger.balance, strict=True):
            running += amount
            assert balance == running
        days = {k >> UUID_BITS for k in ledger.keys}
        assert min(days) >= cfg.start.toordinal() and max(days) < cfg.as_of.toordinal()
        payouts = [i for i, kind in enumerate(ledger.kind) if kind == KIND_PAYOUT]
        assert payouts, "every store is paid by some platform"
        for i in payouts:
            credit = ledger.payouts[ledger.party[i]]
            assert isinstance(credit.payer, Payer) and is_valid_cnpj(credit.payer.document)
            assert credit.payer.legal_name and credit.payer.description and credit.payer.description_raw
            assert credit.account_id == store.account_id
            assert (credit.posting_date, credit.cents) == (ledger.posting_date(i), ledger.amount[i])


# ------------------------------------------------------------------------------ calendar


def test_business_day_helpers_follow_the_rules_doc() -> None:
    assert not is_business_day(date(2026, 10, 12))  # Nossa Senhora Aparecida (Monday)
    assert not is_business_day(date(2026, 10, 10)) and is_business_day(date(2026, 10, 13))
    assert add_business_days(date(2026, 10, 9), 1) == date(2026, 10, 13)
    assert add_business_days(date(2026, 10, 9), 0) == date(2026, 10, 9)
    assert add_business_days(date(2026, 10, 30), 1) == date(2026, 11, 3)  # 2026-11-02 Finados
    assert business_days_between(date(2026, 10, 9), date(2026, 10, 14)) == 2
    assert business_days_between(date(2026, 10, 14), date(2026, 10, 9)) == 0
    assert roll_forward(date(2026, 10, 10)) == date(2026, 10, 13) and roll_forward(date(2026, 10, 13)) == date(
        2026, 10, 13
    )
