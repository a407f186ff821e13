"""Money in the sandbox: `Decimal` quantized to centavos, and its wire renderings.

Inside the world every amount is a `Decimal` with two places (or, in the bank ledger's compact
columns, an `int` of centavos). Floats appear only at the JSON edge, and even there the digits
are written from the exact value: some wire formats want JSON numbers, others strings with two
decimals, and each platform's wire module picks its own.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def q(value: Decimal | int | str) -> Decimal:
    """Quantize to centavos, rounding half up (the usual rule for Brazilian fees)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def from_cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2).quantize(CENT)


def to_cents(value: Decimal) -> int:
    return int(q(value) * 100)


def cents_text(cents: int) -> str:
    """`-21245` → `"-212.45"`: exact two-decimal text, usable as a JSON number or a JSON string."""
    sign = "-" if cents < 0 else ""
    cents = -cents if cents < 0 else cents
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def decimal_text(value: Decimal) -> str:
    """Two-decimal text of a Decimal (`Decimal('3.9')` → `"3.90"`)."""
    return cents_text(to_cents(value))


def json_number(value: Decimal) -> float:
    """The float for a JSON number field. Exact for display: `float.__repr__` of a two-decimal
    Decimal converted this way writes the same digits back (shortest round-trip repr)."""
    return float(value)
