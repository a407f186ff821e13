"""Founding the world's stores as iFood restaurants, and the iFood terms each store gets.

The world's stores are iFood merchants: a store's trade name ("Cantina Bella Napoli 1.2"), its
legal name and CNPJ are drawn here, together with what iFood knows it by (merchant id, short id,
commission plan), from the world's shared "parties" stream in one fixed order — the order the
first worlds were generated in, so a seed still gives the same stores. The anticipation fee
comes from a stream of its own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from sandbox.core.ids import digits_only, new_cnpj, uuid4
from sandbox.core.parties import StoreIdentity

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
_COMMISSION_RATES = (Decimal("0.12"), Decimal("0.23"))  # iFood basic plan / delivery plan
ANTICIPATION_FEE_RATES = tuple(Decimal(r) for r in ("0.0199", "0.0249", "0.0299", "0.0349", "0.0399"))


@dataclass(frozen=True, slots=True)
class MerchantTerms:
    """What iFood drew for a store while founding it; becomes a `Merchant` once the store exists."""

    merchant_id: str
    short_id: str
    commission_rate: Decimal
    anticipation_fee_rate: Decimal


def draw_store(
    rng: random.Random, fees: random.Random, tenant_index: int, store_index: int
) -> tuple[StoreIdentity, MerchantTerms]:
    """The store's names and CNPJ, and iFood's terms for it; `rng` is the parties stream, `fees` the fee stream."""
    name = f"{rng.choice(_STORE_WORDS[0])} {rng.choice(_STORE_WORDS[1])}"
    merchant_id = uuid4(rng)
    short_id = str(rng.randrange(100_000, 999_999))
    legal_name = f"{digits_only(uuid4(rng))[:4]} {name.upper()} COMERCIO DE ALIMENTOS LTDA"
    cnpj = new_cnpj(rng)
    commission_rate = rng.choice(_COMMISSION_RATES)
    identity = StoreIdentity(f"{name} {tenant_index + 1}.{store_index + 1}", legal_name, cnpj)
    return identity, MerchantTerms(merchant_id, short_id, commission_rate, fees.choice(ANTICIPATION_FEE_RATES))
