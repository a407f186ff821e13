"""PushinPay as a payer: who its payouts come from and how a bank statement shows them.

PushinPay settles a store's released balance by PIX from its own account, so the store's bank
prints `PIX RECEBIDO - PUSHIN PAY LTDA` (and a raw, truncated text). The legal name is the one
PushinPay's own PIX QR codes carry as merchant name (`PUSHIN_PAY_LTDA`, city `LIMEIRA`, in the
`pix_details.emv` of the official "Consultar PIX" example, app.theneo.io/pushinpay).

**The CNPJ is synthetic.** We could not confirm PushinPay's CNPJ from any source we could read (its
terms of use and API pages do not print it), so `PUSHINPAY_CNPJ` is a made-up number with valid
check digits; so are the bank, branch and account the PIX leaves from. Replace them (and the
warehouse seed `bank_credit_payers.csv` row) if the real ones are confirmed.
"""

from __future__ import annotations

from sandbox.core.bank import Payer
from sandbox.core.counterparties import Counterparty

PUSHINPAY_LEGAL_NAME = "PUSHIN PAY LTDA"
PUSHINPAY_CNPJ = "41.563.028/0001-14"  # SYNTHETIC (valid check digits): the real CNPJ is unconfirmed
# PushinPay's own account the PIX leaves from (illustrative bank, branch and account).
PUSHINPAY_ACCOUNT = Counterparty(PUSHINPAY_LEGAL_NAME, PUSHINPAY_CNPJ, "CNPJ", "332", "0001", "4821907-3")
PUSHINPAY_PAYER = Payer(
    party=PUSHINPAY_ACCOUNT,
    description=f"PIX RECEBIDO - {PUSHINPAY_LEGAL_NAME}",
    description_raw=f"PIX RECEB {PUSHINPAY_LEGAL_NAME:.26}",
    method="PIX",
)
