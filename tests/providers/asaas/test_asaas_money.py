"""Asaas writes money as JSON numbers in reais; they must become Decimals to the cent, never floats.

Values chosen because binary floating point cannot hold them: 10.05, 19.99, 1234567.89, 0.3 (what
0.1 + 0.2 is not in float), and 1.005, which rounds the wrong way through float (1.00499999…).
Each goes through the shapes the client and the webhook decode with, and the bytes that land keep
the digits Asaas wrote.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import msgspec
import pytest

from plugins.providers.asaas import shapes
from plugins.providers.asaas.webhook import AsaasWebhook

# (as Asaas writes it, the exact amount)
AMOUNTS = [
    ("10.05", Decimal("10.05")),
    ("19.99", Decimal("19.99")),
    ("1234567.89", Decimal("1234567.89")),
    ("0.3", Decimal("0.30")),
    ("1.005", Decimal("1.005")),
    ("129.9", Decimal("129.90")),
    ("1000", Decimal("1000.00")),
    ("0", Decimal("0")),
    ("-42.23", Decimal("-42.23")),  # statement lines are signed
]


def payment_json(value: str, net: str) -> bytes:
    template = (
        '{"object":"payment","id":"pay_1","dateCreated":"2026-10-01","value":VALUE,"netValue":NET,'
        '"status":"RECEIVED","billingType":"PIX","dueDate":"2026-10-01",'
        '"split":[{"walletId":"wal_1","fixedValue":VALUE,"percentualValue":NET,"totalValue":VALUE}]}'
    )
    return template.replace("VALUE", value).replace("NET", net).encode()


@pytest.mark.parametrize(("text", "exact"), AMOUNTS)
def test_payment_amounts_decode_exactly(text: str, exact: Decimal) -> None:
    typed = msgspec.json.decode(payment_json(text, text), type=shapes.Payment)
    for amount in (typed.value, typed.netValue, typed.split[0].fixedValue, typed.split[0].totalValue):
        assert isinstance(amount, Decimal) and amount == exact
        assert str(amount) == text, "the digits Asaas wrote, not a float's"


@pytest.mark.parametrize(("text", "exact"), AMOUNTS)
def test_statement_and_transfer_amounts_decode_exactly(text: str, exact: Decimal) -> None:
    line = msgspec.json.decode(
        b'{"id":"ft_1","value":%s,"balance":%s,"type":"PAYMENT_RECEIVED","date":"2026-10-01"}'
        % (text.encode(), text.encode()),
        type=shapes.FinancialTransaction,
    )
    assert (line.value, line.balance) == (exact, exact)
    moved = msgspec.json.decode(
        b'{"id":"t1","dateCreated":"2026-10-01","value":%s,"netValue":%s,"transferFee":%s,"status":"DONE"}'
        % (text.encode(), text.encode(), text.encode()),
        type=shapes.Transfer,
    )
    assert (moved.value, moved.netValue, moved.transferFee) == (exact, exact, exact)


def test_float_would_have_been_wrong_for_these_values() -> None:
    """Why the Decimals matter: the same numbers through float are off by a fraction of a cent."""
    assert Decimal(float("10.05")) != Decimal("10.05")
    assert Decimal(0.1 + 0.2) != Decimal("0.3")
    assert round(1.005, 2) == 1.0, "1.005 through float rounds down: a lost cent"
    exact = msgspec.json.decode(payment_json("1.005", "1.005"), type=shapes.Payment).value
    assert exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == Decimal("1.01"), "kept exact, it rounds up"


def test_cents_add_up_exactly_across_an_installment_plan() -> None:
    """12 parcels of 83.33 and one adjustment sum to the plan's 999.99, exactly."""
    values = ["83.33"] * 11 + ["83.36"]
    parcels = [msgspec.json.decode(payment_json(v, v), type=shapes.Payment) for v in values]
    assert sum(p.value for p in parcels) == Decimal("999.99")


def test_a_webhook_payment_lands_with_the_digits_asaas_wrote() -> None:
    pay = payment_json("1234567.89", "1.005")
    body = b'{"id":"evt_1&1","event":"PAYMENT_RECEIVED","dateCreated":"2026-10-01 10:00:00","payment":' + pay + b"}"
    event = AsaasWebhook().parse(body)
    landed = bytes(event.records[1].payload)
    assert landed == pay
    decoded = json.loads(landed, parse_float=Decimal)
    assert (decoded["value"], decoded["netValue"]) == (Decimal("1234567.89"), Decimal("1.005"))


@pytest.mark.parametrize("bad", ['"131,8,9"', '"abc"', "null", "true", '"NaN"', '"Infinity"', "[]"])
def test_what_is_not_an_amount_fails(bad: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"[vV]alue"):
        msgspec.json.decode(payment_json(bad, "1.00"), type=shapes.Payment)
