"""Asaas as a payer: who the transfers to the stores' banks come from and how a statement shows them.

Every Asaas transfer leaves from Asaas's own company, ASAAS GESTÃO FINANCEIRA INSTITUIÇÃO DE
PAGAMENTO S.A., CNPJ 19.540.550/0001-21 (its terms of use, ajuda.asaas.com "Termo aditivo -
antecipação de recebíveis"), an institution with COMPE code 461 and ISPB 19540550 (the ISPB is the
CNPJ root, as for every payment institution). Banks print names in upper case without accents and
truncate them; a PIX transfer shows as `PIX RECEBIDO`, a TED as `TED RECEBIDA`. The account number
is made up (Asaas's settlement account is not public).
"""

from __future__ import annotations

from sandbox.core.bank import Payer
from sandbox.core.counterparties import Counterparty

ASAAS_CNPJ = "19.540.550/0001-21"
ASAAS_LEGAL_NAME = "ASAAS GESTAO FINANCEIRA INSTITUICAO DE PAGAMENTO S.A."
ASAAS_COMPE = "461"
ASAAS_ISPB = "19540550"
ASAAS_ACCOUNT = Counterparty(ASAAS_LEGAL_NAME, ASAAS_CNPJ, "CNPJ", ASAAS_COMPE, "0001", "1954055-0")

ASAAS_PIX_PAYER = Payer(
    party=ASAAS_ACCOUNT,
    description=f"PIX RECEBIDO - {ASAAS_LEGAL_NAME}",
    description_raw=f"PIX RECEB {ASAAS_LEGAL_NAME:.30}",
    method="PIX",
)
ASAAS_TED_PAYER = Payer(
    party=ASAAS_ACCOUNT,
    description=f"TED RECEBIDA - {ASAAS_LEGAL_NAME}",
    description_raw=f"TED RECEB {ASAAS_COMPE} {ASAAS_LEGAL_NAME:.26}",
    method="TED",
)


def payer_for(operation_type: str) -> Payer:
    """The payer of a transfer by its `operationType` (PIX or TED)."""
    return ASAAS_PIX_PAYER if operation_type == "PIX" else ASAAS_TED_PAYER
