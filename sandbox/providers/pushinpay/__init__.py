"""The sandbox's PushinPay: the stores' PIX charges (cash-ins) at PushinPay, PushinPay's daily sweeps
into their bank accounts, and a fake PushinPay API (create a charge, read one by id) and webhooks.

(docstring completed below with the facts relied on)
"""

NAME = "pushinpay"  # its URL prefix (/pushinpay), its name in credentials, faults, logs and options
