"""The stores' banks as Pluggy connectors: the four business banks the world's accounts are at."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BankConnector:
    """The (fictitious-id) Pluggy connector of a store's bank."""

    id: int
    name: str
    routing_number: str
    primary_color: str
    institution_url: str
    sends_payment_data: bool  # some banks send no payer data; then only the description names the payer


# Stores get their bank round-robin, so every bank (with and without payer data) appears once there are 4.
BANK_CONNECTORS = (
    BankConnector(601, "Itaú Empresas", "341", "EC7000", "https://www.itau.com.br/empresas", True),
    BankConnector(602, "Bradesco Empresas", "237", "CC092F", "https://www.bradesco.com.br/empresas", True),
    BankConnector(603, "Banco do Brasil Empresas", "001", "FAE128", "https://www.bb.com.br/empresas", False),
    BankConnector(604, "Santander Empresas", "033", "EC0000", "https://www.santander.com.br/empresas", True),
)
