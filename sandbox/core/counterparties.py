"""Who the bank statements' other transactions are with: customers, suppliers, acquirers.

Fictitious people and companies with valid CPFs / CNPJs and bank accounts, drawn once per world
(from the "counterparties" stream) and shared by every account's noise: PIX from customers,
payments to suppliers, card-machine settlements from acquirers. `Counterparty` is also how a
payer that is not noise (a platform paying out) is shown on the statement (`sandbox.core.bank.Payer`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sandbox.core.ids import new_cnpj, new_cpf


@dataclass(frozen=True, slots=True)
class Counterparty:
    """The other side of a transfer, as a bank statement shows it."""

    name: str
    document: str  # formatted CPF or CNPJ
    document_type: str  # "CPF" | "CNPJ"
    routing_number: str  # COMPE bank code
    branch_number: str
    account_number: str


@dataclass(frozen=True, slots=True)
class Counterparties:
    """Who the noise transactions are with; index tables for the ledgers' `party` column."""

    customers: tuple[Counterparty, ...]  # PIX in
    suppliers: tuple[Counterparty, ...]  # PIX out, boletos, TEDs out
    acquirers: tuple[Counterparty, ...]  # card-machine settlements


_FIRST_NAMES = (
    "ANA",
    "BRUNO",
    "CARLA",
    "DIEGO",
    "ELISA",
    "FABIO",
    "GABRIELA",
    "HEITOR",
    "ISABELA",
    "JOAO",
    "KARINA",
    "LUCAS",
    "MARINA",
    "NICOLAS",
    "OLIVIA",
    "PEDRO",
    "RAFAELA",
    "SAMUEL",
    "TATIANA",
    "VITOR",
)
_LAST_NAMES = (
    "SILVA",
    "SANTOS",
    "OLIVEIRA",
    "SOUZA",
    "RODRIGUES",
    "FERREIRA",
    "ALVES",
    "PEREIRA",
    "LIMA",
    "GOMES",
    "COSTA",
    "RIBEIRO",
    "MARTINS",
    "CARVALHO",
    "ARAUJO",
)
_SUPPLIER_NAMES = (
    "DISTRIBUIDORA SABOR DO SUL",
    "HORTIFRUTI BOA COLHEITA",
    "FRIGORIFICO SERRA AZUL",
    "EMBALAGENS PRATICAS",
    "LATICINIOS VALE VERDE",
    "BEBIDAS GELADAS",
    "PADARIA TRIGO DOURADO",
    "GAS E AGUA CENTRAL",
    "LIMPEZA TOTAL SERVICOS",
    "IMOBILIARIA PONTO CERTO",
    "CONTABILIDADE EXATA",
    "ENERGIA PAULISTA",
    "TELEFONIA CONECTA",
    "MOTOBOY EXPRESSO",
    "PEIXARIA MAR ABERTO",
    "MERCEARIA CENTRAL",
    "ACOUGUE BOI NOBRE",
    "TEMPEROS DA TERRA",
    "DESCARTAVEIS BRASIL",
    "MANUTENCAO FRIO BOM",
)
_ACQUIRER_NAMES = ("PAGUE FACIL MEIOS DE PAGAMENTO S.A.", "MAQUININHA AZUL INSTITUICAO DE PAGAMENTO S.A.")
_BANK_CODES = ("001", "033", "104", "237", "260", "290", "336", "341", "380", "077")


def make_counterparties(rng: random.Random) -> Counterparties:
    """Fictitious customers, suppliers and acquirers with valid CPFs/CNPJs, shared by all accounts."""

    def account(rng: random.Random) -> tuple[str, str, str]:
        return (
            rng.choice(_BANK_CODES),
            f"{rng.randrange(1, 9999):04d}",
            f"{rng.randrange(10_000, 999_999)}-{rng.randrange(10)}",
        )

    customers = []
    for i in range(60):
        name = f"{_FIRST_NAMES[i % len(_FIRST_NAMES)]} {rng.choice(_LAST_NAMES)} {rng.choice(_LAST_NAMES)}"
        customers.append(Counterparty(name, new_cpf(rng), "CPF", *account(rng)))
    suppliers = [Counterparty(f"{name} LTDA", new_cnpj(rng), "CNPJ", *account(rng)) for name in _SUPPLIER_NAMES]
    acquirers = [Counterparty(name, new_cnpj(rng), "CNPJ", *account(rng)) for name in _ACQUIRER_NAMES]
    return Counterparties(tuple(customers), tuple(suppliers), tuple(acquirers))
