"""Hotmart as a payer: who its deposits come from and how a bank statement shows them.

Hotmart's Brazilian entity, the one that collects BRL sales and pays producers resident in Brazil,
is **Launch Pad Tecnologia, Serviços e Pagamentos Ltda.** ("Hotmart BR"), CNPJ
**13.427.325/0001-05**, Belo Horizonte/MG (Hotmart's Payment Policy for Brazil,
hotmart.com/legal/en/payments-policy/br, and its Glossary, hotmart.com/en/legal/glossary; the CNPJ
has valid check digits). Banks print names in capitals without accents, truncated: the statement
reads `TED RECEBIDA - LAUNCH PAD TECNOLOGIA SERVICOS E PAGAMENTOS LTDA`. How Hotmart sends the
money (TED or PIX) and the bank, branch and account it leaves from are not public: TED and the
account below are our choice (synthetic).
"""

from __future__ import annotations

from sandbox.core.bank import Payer
from sandbox.core.counterparties import Counterparty

HOTMART_CNPJ = "13.427.325/0001-05"
HOTMART_LEGAL_NAME = "LAUNCH PAD TECNOLOGIA SERVICOS E PAGAMENTOS LTDA"
HOTMART_ACCOUNT = Counterparty(HOTMART_LEGAL_NAME, HOTMART_CNPJ, "CNPJ", "341", "0910", "40112-7")  # synthetic
HOTMART_PAYER = Payer(
    party=HOTMART_ACCOUNT,
    description=f"TED RECEBIDA - {HOTMART_LEGAL_NAME}",
    description_raw=f"TED REC {HOTMART_LEGAL_NAME:.28}",
    method="TED",
)
