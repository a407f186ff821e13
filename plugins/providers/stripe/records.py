"""Where each Stripe object lands, its key, its money and its time: one rule for sync and webhooks.

Sync and the webhook scheme put the same objects in the same raw tables (a charge listed by
`GET /v1/charges` and a charge carried by `charge.succeeded` both land in `stripe_charges`), so the
table, the external id and the key column of each kind are decided here once.

Money: Stripe writes amounts as integers in the currency's minor unit (API reference, "Minor units
in API amounts", docs.stripe.com/currencies). `to_major_units` turns one into an exact Decimal of
the major unit (1005 centavos → Decimal("10.05") reais) by moving the decimal point, never by
dividing floats; payloads themselves keep Stripe's integers untouched, and staging applies the
same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from plugins.providers.base import RawRecord
from plugins.providers.stripe import shapes

# Stripe's zero-decimal and three-decimal currencies (docs.stripe.com/currencies); every other
# currency has two decimals in the API (BRL among them). Stripe's "special cases" (ISK, HUF, TWD:
# written with two decimals although charged in whole units) need nothing here: their API amounts
# are two-decimal like any other.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def decimals(currency: str) -> int:
    """How many decimals the currency has in Stripe's amounts (BRL: 2)."""
    code = currency.lower()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def to_major_units(amount: int, currency: str) -> Decimal:
    """An integer amount in minor units as an exact Decimal in major units: (1005, "brl") → 10.05.

    The result always carries the currency's decimals (1000 → 10.00), so it compares and prints
    as the amount Stripe's dashboard shows. Anything but an integer (a float, a bool, text) is a
    TypeError: minor units that are not whole are not Stripe's.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"a Stripe amount is an integer of minor units, not {type(amount).__name__} {amount!r}")
    sign, digits, _ = Decimal(amount).as_tuple()
    return Decimal((sign, digits, -decimals(currency)))  # the same digits, the point moved: exact


def timestamp(seconds: int) -> datetime:
    """A Stripe timestamp (Unix seconds) as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


# ----------------------------------------------------------------------------- landing


@dataclass(frozen=True)
class Landing:
    """Where objects of one kind land: the raw table, and its key column with the object field it holds."""

    table: str
    key_column: str
    key_field: str = ""  # the object's field the key column holds; "" = the column's own name

    def record(self, typed: msgspec.Struct, raw: bytes | msgspec.Raw) -> RawRecord:
        key = getattr(typed, self.key_field or self.key_column)
        return RawRecord(self.table, typed.id, raw, {self.key_column: key})  # type: ignore[attr-defined]


CHARGES = Landing("stripe_charges", "payment_intent")
REFUNDS = Landing("stripe_refunds", "charge")
DISPUTES = Landing("stripe_disputes", "charge")
PAYOUTS = Landing("stripe_payouts", "status")
# The balance transaction's `source` (the charge, refund, payout … it moved money for). Every raw
# table already has a `source` column (api | webhook | file), so the key column is `source_id`.
BALANCE_TRANSACTIONS = Landing("stripe_balance_transactions", "source_id", "source")
PAYOUT_TRANSACTIONS_TABLE = "stripe_payout_transactions"
PAYOUT_TRANSACTIONS_KEY = "payout_id"
EVENTS_TABLE = "stripe_events"
EVENTS_KEY = "type"

# An object kind (its `object` field) -> where it lands, for the kinds with an API table.
LANDINGS: dict[str, Landing] = {
    "charge": CHARGES,
    "refund": REFUNDS,
    "dispute": DISPUTES,
    "payout": PAYOUTS,
    "balance_transaction": BALANCE_TRANSACTIONS,
}


def payout_transaction_record(payout_id: str, transaction: shapes.BalanceTransaction, raw: msgspec.Raw) -> RawRecord:
    """One (payout, balance transaction) pair: the only link Stripe gives from a payment to its payout."""
    return RawRecord(
        PAYOUT_TRANSACTIONS_TABLE,
        f"{payout_id}:{transaction.id}",
        raw,
        {PAYOUT_TRANSACTIONS_KEY: payout_id},
    )
