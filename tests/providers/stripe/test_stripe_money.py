"""Stripe's money crosses the edge exactly: integer minor units in, exact Decimals of the major unit out.

Stripe writes every amount as an integer of the currency's minor unit (1005 = R$ 10,05). These
tests hold the conversion to the cent on values binary floating point cannot represent (10.05,
19.99, 0.1 + 0.2, 1234567.89, a three-decimal 1.005), and hold the shapes to refusing anything but
an integer where Stripe documents one, so a float never reaches a raw table or a Decimal.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from plugins.providers.stripe import shapes
from plugins.providers.stripe.records import decimals, to_major_units
from plugins.providers.stripe.webhook import StripeWebhook


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [
        (1005, "brl", "10.05"),  # 10.05 is not exact in binary floating point
        (1999, "brl", "19.99"),
        (123456789, "brl", "1234567.89"),
        (1, "brl", "0.01"),
        (10, "brl", "0.10"),
        (0, "brl", "0.00"),
        (-1005, "brl", "-10.05"),  # refunds, fees and payouts are negative on the balance
        (99999999, "brl", "999999.99"),  # Stripe's largest charge amount
        (123456789012345678, "brl", "1234567890123456.78"),  # beyond float's 15-16 significant digits
        (1005, "BRL", "10.05"),
        (1005, "usd", "10.05"),
        (1005, "kwd", "1.005"),  # a three-decimal currency: 1.005 as the platform renders it
        (1005, "jpy", "1005"),  # a zero-decimal currency
    ],
)
def test_minor_units_become_exact_decimals_of_the_major_unit(minor: int, currency: str, major: str) -> None:
    value = to_major_units(minor, currency)
    assert isinstance(value, Decimal)
    assert str(value) == major, "exact, and with the currency's decimals (10.00, not 10)"
    assert value == Decimal(major)
    assert value.as_tuple().exponent == -decimals(currency)


def test_sums_are_exact_where_floats_are_not() -> None:
    assert 0.10 + 0.20 != 0.30  # the trap
    assert to_major_units(10, "brl") + to_major_units(20, "brl") == Decimal("0.30")
    assert 10.05 * 100 != 1005  # the other trap: floats do not round-trip through cents
    assert sum(to_major_units(1005, "brl") for _ in range(3)) == Decimal("30.15")
    assert to_major_units(1999 + 1005 - 3004, "brl") == to_major_units(1999, "brl") + to_major_units(1005, "brl") - (
        to_major_units(3004, "brl")
    )


@pytest.mark.parametrize("bad", [10.05, 1005.0, True, "1005", None, Decimal("1005")])
def test_only_integers_are_minor_units(bad: Any) -> None:
    with pytest.raises(TypeError, match="integer of minor units"):
        to_major_units(bad, "brl")


def _charge(amount_json: str) -> bytes:
    return (
        '{"id": "ch_1", "object": "charge", "amount": ' + amount_json + ', "amount_captured": 0, '
        '"amount_refunded": 0, "balance_transaction": null, "captured": false, "created": 1790000000, '
        '"currency": "brl", "paid": false, "payment_intent": null, "refunded": false, "status": "pending"}'
    ).encode()


@pytest.mark.parametrize(
    ("amount_json", "reais"), [("1005", "10.05"), ("1999", "19.99"), ("123456789", "1234567.89"), ("-1", "-0.01")]
)
def test_a_documented_integer_amount_decodes_exactly(amount_json: str, reais: str) -> None:
    charge = msgspec.json.decode(_charge(amount_json), type=shapes.Charge)
    assert type(charge.amount) is int
    assert to_major_units(charge.amount, charge.currency) == Decimal(reais)


@pytest.mark.parametrize("amount_json", ["10.05", "1.005", "19.99", "1234567.89", "1005.0", "1e3", '"1005"', "true"])
def test_an_amount_that_is_not_an_integer_is_not_stripes(amount_json: str) -> None:
    """A decimal or text amount where Stripe documents integer minor units is a shape error, never
    a float that would be silently rounded (or multiplied by 100 twice)."""
    with pytest.raises(msgspec.ValidationError, match=r"Expected `int`, got `(float|str|bool)` - at `\$.amount`"):
        msgspec.json.decode(_charge(amount_json), type=shapes.Charge)


def test_balance_transaction_money_adds_up_or_is_refused() -> None:
    """`net` is documented as `amount - fee`: a transaction where it is not cannot be trusted."""
    base = {
        "id": "txn_1",
        "object": "balance_transaction",
        "amount": 1005,
        "available_on": 1790100000,
        "created": 1790000000,
        "currency": "brl",
        "fee": 99,
        "fee_details": [{"amount": 99, "currency": "brl", "type": "stripe_fee"}],
        "net": 906,
        "reporting_category": "charge",
        "source": "ch_1",
        "status": "pending",
        "type": "charge",
        "exchange_rate": 5.4321,
    }
    transaction = msgspec.json.decode(json.dumps(base), type=shapes.BalanceTransaction)
    assert [to_major_units(v, "brl") for v in (transaction.amount, transaction.fee, transaction.net)] == [
        Decimal("10.05"),
        Decimal("0.99"),
        Decimal("9.06"),
    ]
    with pytest.raises(msgspec.ValidationError, match="net 905 is not amount 1005 - fee 99"):
        msgspec.json.decode(json.dumps({**base, "net": 905}), type=shapes.BalanceTransaction)


def test_a_webhook_lands_the_amount_exactly_as_stripe_wrote_it() -> None:
    """The payload that lands is Stripe's bytes: the integer stays an integer, digit for digit."""
    charge = _charge("1005").decode()
    raw = ('{"id": "evt_1", "object": "event", "type": "charge.succeeded", "created": 1790000000, '
           '"data": {"object": ' + charge + "}}").encode()  # fmt: skip
    _, landed = StripeWebhook().parse(raw).records
    assert b'"amount": 1005,' in bytes(landed.payload)  # type: ignore[arg-type]
    assert to_major_units(json.loads(bytes(landed.payload))["amount"], "brl") == Decimal("10.05")  # type: ignore[arg-type]
