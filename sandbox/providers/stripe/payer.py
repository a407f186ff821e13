"""Stripe as a payer: who its payouts come from and how a bank statement shows them.

Stripe pays a Brazilian account's payouts from its local payment institution, STRIPE BRASIL
SOLUCOES DE PAGAMENTO - INSTITUICAO DE PAGAMENTO LTDA., CNPJ 22.121.209/0001-46 (the Banco
Central's register of payment institutions lists that CNPJ as "STRIPE BRASIL SOLUCOES DE PAGAMENTO
INSTITUICAO DE PAGA…", truncated; sources in this package's docstring). The account the transfers
leave from is not public: its bank, branch and number here are synthetic. The statement text names
Stripe, so even a bank that sends no payment data shows whose payout it is.
"""

from __future__ import annotations

from sandbox.core.bank import Payer
from sandbox.core.counterparties import Counterparty

STRIPE_CNPJ = "22.121.209/0001-46"
STRIPE_LEGAL_NAME = "STRIPE BRASIL SOLUCOES DE PAGAMENTO - INSTITUICAO DE PAGAMENTO LTDA."
# Synthetic: the bank account Stripe's transfers leave from is not published.
STRIPE_ACCOUNT = Counterparty(STRIPE_LEGAL_NAME, STRIPE_CNPJ, "CNPJ", "341", "0911", "40512-7")
STRIPE_PAYER = Payer(
    party=STRIPE_ACCOUNT,
    description=f"TED RECEBIDA - {STRIPE_LEGAL_NAME}",
    description_raw=f"TED RECEB {STRIPE_ACCOUNT.routing_number} STRIPE BRASIL SOLUCOES",
    method="TED",
)
