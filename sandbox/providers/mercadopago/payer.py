"""Mercado Pago as a payer: who its withdrawals come from and how a bank statement shows them.

An account's released money leaves Mercado Pago by PIX into the store's own bank account, sent by
Mercado Pago Instituição de Pagamento Ltda., CNPJ 10.573.521/0001-91 (the legal name and CNPJ of
Mercado Pago's own terms, "Condições gerais da Antecipação de dinheiro",
mercadopago.com.br/ajuda/condicoes-gerais-da-antecipacao-de-dinheiro_2584), COMPE/ISPB bank code
323 (Mercado Pago's payment institution). Banks print names in capitals without accents, so the
statement reads `PIX RECEBIDO - MERCADO PAGO INSTITUICAO DE PAGAMENTO LTDA`; a bank that sends no
payment data still names Mercado Pago in the description. The branch and account number of Mercado
Pago's own side are synthetic (no bank shows them to us).
"""

from __future__ import annotations

from sandbox.core.bank import Payer
from sandbox.core.counterparties import Counterparty

MERCADOPAGO_CNPJ = "10.573.521/0001-91"
MERCADOPAGO_LEGAL_NAME = "MERCADO PAGO INSTITUICAO DE PAGAMENTO LTDA"
MERCADOPAGO_BANK_CODE = "323"
MERCADOPAGO_ACCOUNT = Counterparty(
    MERCADOPAGO_LEGAL_NAME, MERCADOPAGO_CNPJ, "CNPJ", MERCADOPAGO_BANK_CODE, "0001", "1000323-9"
)
MERCADOPAGO_PAYER = Payer(
    party=MERCADOPAGO_ACCOUNT,
    description=f"PIX RECEBIDO - {MERCADOPAGO_LEGAL_NAME}",
    description_raw=f"PIX RECEB {MERCADOPAGO_LEGAL_NAME:.30}",
    method="PIX",
)
