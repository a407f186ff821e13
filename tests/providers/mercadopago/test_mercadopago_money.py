"""Mercado Pago money crosses the edge exactly: JSON numbers in reais become Decimal to the cent.

MP writes amounts as JSON numbers (`"transaction_amount": 10.05`). Read through a float, 10.05 is
10.050000000000000710542735760100185871124267578125 and a fee of 0.1 plus one of 0.2 is not 0.3;
read by msgspec into `Decimal` it is the digits MP wrote. Each test below builds a search answer
as MP writes it and runs it through what the client does with a real answer
(`read_search_page`), then through the raw writer into PostgreSQL.

These answers are built here rather than served by the sandbox because the sandbox, like a real
store's prices, only ever writes two-decimal amounts: 1.005, 0.1 + 0.2 or 99999999.99 never come
from it. The served tests (`test_mercadopago_served.py`) check the world's own amounts to the cent,
and the fault suite a malformed amount on the wire.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import msgspec
import psycopg
import pytest

from ingestion import raw_writer
from plugins.providers.base import RawRecord
from plugins.providers.errors import ResponseShapeError
from plugins.providers.mercadopago.client import read_search_page
from plugins.providers.mercadopago.provider import PAYMENTS_TABLE
from plugins.providers.transport import decode_object

# Not one of these is exact in binary floating point (but 1234567.89's neighbours are far apart too).
AMOUNTS = ["10.05", "1.005", "19.99", "1234567.89", "0.1", "0.2", "0.3", "0.01", "99999999.99", "150"]
_ENCODER = msgspec.json.Encoder(decimal_format="number")  # Decimal -> the JSON number with its digits


def payment(n: int, amount: str, **override: Any) -> dict[str, Any]:
    """One payment as MP's search lists it, with `amount` as its gross (written as a JSON number)."""
    gross = Decimal(amount)
    fee = (gross * Decimal("0.0499")).quantize(Decimal("0.01"))
    return {
        "id": 20_000_000_000 + n,
        "status": "approved",
        "status_detail": "accredited",
        "date_created": "2026-10-01T09:15:02.000-04:00",
        "date_approved": "2026-10-01T09:15:04.000-04:00",
        "date_last_updated": "2026-10-01T09:15:04.000-04:00",
        "money_release_date": "2026-10-31T09:15:04.000-04:00",
        "money_release_status": "pending",
        "currency_id": "BRL",
        "transaction_amount": gross,
        "transaction_amount_refunded": Decimal("0"),
        "fee_details": [{"type": "mercadopago_fee", "amount": fee, "fee_payer": "collector"}],
        "transaction_details": {"net_received_amount": gross - fee, "total_paid_amount": gross},
        "installments": 1,
        "payment_method_id": "pix",
        "payment_type_id": "bank_transfer",
        "external_reference": f"order-{n}",
        "metadata": {},
        "refunds": [],
        **override,
    }


def answer(results: list[dict[str, Any]], total: int | None = None) -> httpx.Response:
    """MP's search answer, as it arrives (a real httpx.Response to a real request object)."""
    content = _ENCODER.encode(
        {"paging": {"total": len(results) if total is None else total, "limit": 50, "offset": 0}, "results": results}
    )
    request = httpx.Request("GET", "https://api.mercadopago.com/v1/payments/search?offset=0&limit=50")
    return httpx.Response(200, content=content, headers={"content-type": "application/json"}, request=request)


@pytest.mark.parametrize("amount", AMOUNTS)
def test_an_amount_is_the_decimal_mp_wrote(amount: str) -> None:
    response = answer([payment(1, amount)])
    assert f'"transaction_amount":{amount}'.encode() in response.content, "MP's JSON number, as written"
    typed, raw = read_search_page(response)
    assert typed.results[0].transaction_amount == Decimal(amount)
    assert str(typed.results[0].transaction_amount) == amount, "not even a trailing digit more or less"
    landed = decode_object(raw[0])
    assert landed["transaction_amount"] == Decimal(amount) and str(landed["transaction_amount"]) == amount
    assert f'"transaction_amount":{amount}'.encode() in bytes(raw[0]), "the payload is MP's bytes"


def test_fees_and_net_add_up_to_the_gross_to_the_cent() -> None:
    """0.1 + 0.2 style: the parts of 19.99 are summed in Decimal and meet it exactly."""
    record = payment(
        1,
        "19.99",
        fee_details=[
            {"type": "mercadopago_fee", "amount": Decimal("0.1"), "fee_payer": "collector"},
            {"type": "application_fee", "amount": Decimal("0.2"), "fee_payer": "collector"},
        ],
        transaction_details={"net_received_amount": Decimal("19.69")},
    )
    parsed = read_search_page(answer([record]))[0].results[0]
    fees = sum((fee.amount for fee in parsed.fee_details), Decimal(0))
    assert fees == Decimal("0.3")
    assert fees + parsed.transaction_details.net_received_amount == parsed.transaction_amount == Decimal("19.99")


def test_amounts_of_a_whole_page_sum_exactly() -> None:
    results = [payment(n, amount) for n, amount in enumerate(AMOUNTS)]
    typed, raw = read_search_page(answer(results))
    assert sum((p.transaction_amount for p in typed.results), Decimal(0)) == sum(map(Decimal, AMOUNTS))
    assert [decode_object(r)["transaction_details"]["net_received_amount"] for r in raw] == [
        p.transaction_details.net_received_amount for p in typed.results
    ]


def test_amounts_land_in_the_warehouse_exactly(clean_warehouse: str) -> None:
    typed, raw = read_search_page(answer([payment(n, amount) for n, amount in enumerate(AMOUNTS)]))
    records = [
        RawRecord(PAYMENTS_TABLE, str(p.id), r, {"external_reference": p.external_reference})
        for p, r in zip(typed.results, raw, strict=True)
    ]
    with psycopg.connect(clean_warehouse) as conn:
        raw_writer.write(conn, records, tenant_id="t1", integration_id=3, sync_run_id=None, source="api")
        conn.commit()
        rows = conn.execute(
            f"""select external_reference, payload ->> 'transaction_amount',
                       (payload ->> 'transaction_amount')::numeric(18, 2)
                from raw.{PAYMENTS_TABLE} order by external_id"""
        ).fetchall()
    assert [text for _, text, _ in rows] == AMOUNTS, "jsonb keeps MP's digits"
    assert [cents for _, _, cents in rows] == [Decimal(a).quantize(Decimal("0.01"), ROUND_HALF_UP) for a in AMOUNTS]
    assert rows[AMOUNTS.index("1.005")][2] == Decimal("1.01"), "through a float, round(1.005, 2) is 1.0"
    assert rows[0][0] == "order-0", "keyed by the seller's external_reference"


@pytest.mark.parametrize(
    ("corrupt", "found"),
    [
        ({"transaction_amount": "131,8,9"}, "Invalid decimal string"),
        ({"transaction_amount": "NaN"}, "`transaction_amount` is not a finite amount"),
        ({"transaction_amount": None}, "Expected `decimal`, got `null`"),
        ({"fee_details": [{"type": "mercadopago_fee", "amount": "abc"}]}, "Invalid decimal string"),
        ({"transaction_details": {"net_received_amount": "Infinity"}}, "not a finite amount"),
        ({"date_last_updated": "2026-10-01T09:15:04.000"}, "timezone"),
    ],
)
def test_a_malformed_amount_or_time_fails_naming_the_payment(corrupt: dict[str, Any], found: str) -> None:
    results = [payment(n, "10.05") for n in range(5)]
    results[3] |= corrupt
    with pytest.raises(ResponseShapeError, match=found) as raised:
        read_search_page(answer(results))
    assert "record results[3]" in str(raised.value), "the error points at the payment"
    if "fee_details" not in corrupt and "transaction_details" not in corrupt:
        assert "record results[3], id 20000000003" in str(raised.value)


def test_a_payment_missing_what_the_reconciliation_reads_fails() -> None:
    for field in (
        "transaction_amount",
        "fee_details",
        "transaction_details",
        "money_release_date",
        "date_last_updated",
    ):
        results = [payment(n, "10.05") for n in range(5)]
        del results[3][field]
        with pytest.raises(ResponseShapeError, match=f"missing required field `{field}`.*record results\\[3\\]"):
            read_search_page(answer(results))


def test_a_pending_payment_may_have_no_net_nor_release_date_yet() -> None:
    pending = payment(
        1,
        "10.05",
        status="pending",
        status_detail="pending_waiting_transfer",
        date_approved=None,
        money_release_date=None,
        money_release_status=None,
        transaction_details={"net_received_amount": Decimal("0")},
        fee_details=[],
    )
    parsed = read_search_page(answer([pending]))[0].results[0]
    assert parsed.transaction_details.net_received_amount == 0 and parsed.money_release_date is None
