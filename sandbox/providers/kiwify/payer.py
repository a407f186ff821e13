"""Kiwify as a payer: who its payouts come from and how a bank statement shows them.

Kiwify's software-licence terms name the licensor "Kiwify, registered under CNPJ/ME No.
**36.149.947/0001-06**, headquartered at Rua 1001, 315, Room 05, Centro, Balneário Camboriú/SC"
(kiwify.com/software-license-terms; the CNPJ has valid check digits). **The legal name is not
confirmed**: the terms say only "Kiwify"; `KIWIFY PAGAMENTOS TECNOLOGIA E SERVICOS LTDA` below is our
rendering of a plausible one (replace it, and the warehouse seed row, if the registered name is
confirmed). Payouts are PIX transfers to the producer's bank account (the panel's "saque"); the
account they leave from is synthetic.
"""

from __future__ import annotations

from sandbox.core.bank import Payer
from sandbox.core.counterparties import Counterparty

KIWIFY_CNPJ = "36.149.947/0001-06"
KIWIFY_LEGAL_NAME = "KIWIFY PAGAMENTOS TECNOLOGIA E SERVICOS LTDA"  # UNCONFIRMED legal name
KIWIFY_ACCOUNT = Counterparty(KIWIFY_LEGAL_NAME, KIWIFY_CNPJ, "CNPJ", "077", "0001", "30219876-4")  # synthetic
KIWIFY_PAYER = Payer(
    party=KIWIFY_ACCOUNT,
    description=f"PIX RECEBIDO - {KIWIFY_LEGAL_NAME}",
    description_raw=f"PIX RECEB {KIWIFY_LEGAL_NAME:.30}",
    method="PIX",
)
