"""iFood as a payer: who its payouts come from and how a bank statement shows them.

Every iFood payout is a TED from iFood's company (CNPJ 14.380.200/0001-21) into the store's
account; the bank prints `TED RECEBIDA - IFOOD.COM …` (and a raw, truncated text), so even a bank
that sends no payment data names iFood in the description. The ledger and the bank's wire format
know none of this: each planned credit carries `IFOOD_PAYER`.
"""

from __future__ import annotations

from sandbox.core.bank import Payer
from sandbox.core.counterparties import Counterparty

IFOOD_CNPJ = "14.380.200/0001-21"
IFOOD_LEGAL_NAME = "IFOOD.COM AGENCIA DE RESTAURANTES ONLINE S.A."
# iFood's own account the TEDs leave from (Itaú), as the payer side of a statement's payment data.
IFOOD_ACCOUNT = Counterparty(IFOOD_LEGAL_NAME, IFOOD_CNPJ, "CNPJ", "341", "0001", "21100-4")
IFOOD_PAYER = Payer(
    party=IFOOD_ACCOUNT,
    description=f"TED RECEBIDA - {IFOOD_LEGAL_NAME}",
    description_raw=f"TED RECEB {IFOOD_ACCOUNT.routing_number} {IFOOD_LEGAL_NAME:.26}",
    method="TED",
)
