"""Hotmart money to the cent, and its dates to the millisecond.

Hotmart writes amounts as JSON numbers in reais (`"value": 235.76`) in every listing the sync
reads. The values below are ones binary floating point cannot hold (10.05, 19.99, 1234567.89,
0.1 + 0.2) or that a float would round (1.005): going through float anywhere would show here. The
typed shapes decode them straight into Decimal; what lands is each item's exact bytes, and the
last tests read the amounts back from PostgreSQL as `numeric`, as staging will.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import psycopg
import pytest

from ingestion import raw_writer
from plugins.providers.base import BUSINESS_TZ, Interval, RawRecord
from plugins.providers.errors import NotLinkedError
from plugins.providers.hotmart import shapes
from plugins.providers.hotmart.records import check_payout_documents, from_millis, to_millis, window_millis

SALES = msgspec.json.Decoder(shapes.SalesPage)
COMMISSIONS = msgspec.json.Decoder(shapes.CommissionsPage)
PRICE_DETAILS = msgspec.json.Decoder(shapes.PriceDetailsPage)
RAW = msgspec.json.Decoder(shapes.RawPage)

AMOUNTS = ["10.05", "1.005", "19.99", "1234567.89", "0.1", "0.2", "0.01", "0", "235.76", "99999999999.99"]


def sale(value: str, *, status: str = "APPROVED", fee: str = "1.5") -> str:
    """A history item as the scraped reference's example writes it, `value` spliced in as written."""
    return f"""{{
      "product": {{"name": "Product06", "id": 2125812}},
      "buyer": {{"name": "Ian Victor Baptista", "ucode": "839F1A4F-43DC", "email": "ian@teste.com"}},
      "producer": {{"name": "Bárbara Sebastiana Cardoso", "ucode": "252A74C5-4A97"}},
      "purchase": {{
        "transaction": "HP12455690122399", "order_date": 1622948400000, "approved_date": 1622948400000,
        "status": "{status}", "recurrency_number": 2, "is_subscription": false, "commission_as": "PRODUCER",
        "price": {{"value": {value}, "currency_code": "BRL"}},
        "payment": {{"method": "BILLET", "installments_number": 1, "type": "BILLET"}},
        "tracking": {{"source_sck": "HOTMART_PRODUCT_PAGE", "source": "HOTMART", "external_code": "FD256D24"}},
        "warranty_expire_date": 1625022000000,
        "offer": {{"payment_mode": "INVOICE", "code": "k2pasun0"}},
        "hotmart_fee": {{"total": {fee}, "fixed": 0, "currency_code": "BRL", "base": 11.12, "percentage": 9.9}}
      }}
    }}"""


def page(*items: str, total: int | None = None) -> bytes:
    count = len(items) if total is None else total
    return (
        f'{{"items": [{", ".join(items)}], "page_info": {{"total_results": {count}, "results_per_page": 50}}}}'.encode()
    )


def commissions(transaction: str, **values: str) -> str:
    parts = ", ".join(
        f'{{"commission": {{"currency_value": "BRL", "value": {value}}}, '
        f'"user": {{"ucode": "u-{source.lower()}", "name": "{source}"}}, "source": "{source}"}}'
        for source, value in values.items()
    )
    return (
        f'{{"transaction": "{transaction}", "product": {{"name": "P", "id": 123456}}, '
        f'"exchange_rate_currency_payout": 0.001334, "commissions": [{parts}]}}'
    )


def price_details(transaction: str, total: str, fee: str) -> str:
    return (
        f'{{"transaction": "{transaction}", "product": {{"id": 8547854, "name": "product1"}}, '
        f'"base": {{"value": {total}, "currency_code": "BRL"}}, "total": {{"value": {total}, "currency_code": "BRL"}}, '
        f'"vat": {{"value": 0, "currency_code": "BRL"}}, "fee": {{"value": {fee}, "currency_code": "BRL"}}, '
        f'"coupon": {{"code": "coupon1", "value": 22.9}}, "real_conversion_rate": 1}}'
    )


@pytest.mark.parametrize("written", AMOUNTS)
def test_a_sales_price_and_fee_decode_to_the_exact_decimal_written(written: str) -> None:
    item = SALES.decode(page(sale(written, fee=written))).items[0]
    assert isinstance(item.purchase.price.value, Decimal)
    assert item.purchase.price.value == Decimal(written) and str(item.purchase.price.value) == written
    assert item.purchase.hotmart_fee is not None and item.purchase.hotmart_fee.total == Decimal(written)


@pytest.mark.parametrize("written", AMOUNTS)
def test_commissions_and_price_details_decode_to_the_exact_decimal_written(written: str) -> None:
    item = COMMISSIONS.decode(page(commissions("HP1", PRODUCER=written, AFFILIATE="0.65"))).items[0]
    assert [(c.source, c.commission.value, c.user.ucode) for c in item.commissions] == [
        ("PRODUCER", Decimal(written), "u-producer"),
        ("AFFILIATE", Decimal("0.65"), "u-affiliate"),
    ]
    detail = PRICE_DETAILS.decode(page(price_details("HP1", written, written))).items[0]
    assert (detail.total.value, detail.fee.value) == (Decimal(written), Decimal(written))
    assert str(detail.total.value) == written


def test_sums_are_exact_where_floats_are_not() -> None:
    assert 0.1 + 0.2 != 0.3, "the float problem this guards against"
    values = [SALES.decode(page(sale(v))).items[0].purchase.price.value for v in ("0.1", "0.2")]
    assert sum(values, Decimal(0)) == Decimal("0.3")
    detail = PRICE_DETAILS.decode(page(price_details("HP1", "19.99", "10.05"))).items[0]
    assert detail.total.value - detail.fee.value == Decimal("9.94")
    assert round(Decimal("1.005"), 2) == Decimal("1.00") and SALES.decode(page(sale("1.005"))).items[
        0
    ].purchase.price.value == Decimal("1.005"), (
        "1.005 is kept as written; rounding is the warehouse's, once, never a float's"
    )
    parts = COMMISSIONS.decode(page(commissions("HP1", PRODUCER="1085.5", COPRODUCER="150.0", AFFILIATE="115.0")))
    assert sum((c.commission.value for c in parts.items[0].commissions), Decimal(0)) + Decimal("149.5") == Decimal(
        "1500"
    )


@pytest.mark.parametrize(
    "written",
    ['"10,05"', '"1.005,00"', '"abc"', "null", "true", '"NaN"', '"Infinity"', "[10.05]", '{"value": 1}'],
)
def test_an_amount_that_is_not_a_number_is_refused_not_guessed(written: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.items\[0\]\.purchase\.price\.value|not a finite amount"):
        SALES.decode(page(sale(written)))


@pytest.mark.parametrize(
    ("path", "names"),
    [
        (("purchase", "transaction"), "`transaction`"),
        (("purchase", "status"), "`status`"),
        (("purchase", "order_date"), "`order_date`"),
        (("purchase", "is_subscription"), "`is_subscription`"),
        (("purchase", "price"), "`price`"),
        (("purchase", "approved_date"), "APPROVED sale without `approved_date`"),
        (("purchase", "payment", "type"), "`type`"),
        (("product", "id"), "`id`"),
    ],
)
def test_a_sale_without_a_field_the_warehouse_reads_is_refused(path: tuple[str, ...], names: str) -> None:
    item = json.loads(sale("10.05"))
    node = item
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    with pytest.raises(msgspec.ValidationError, match=names):
        SALES.decode(page(json.dumps(item)))


def test_a_pending_sale_may_have_no_approval_date() -> None:
    item = json.loads(sale("10.05", status="WAITING_PAYMENT"))
    del item["purchase"]["approved_date"]
    assert SALES.decode(page(json.dumps(item))).items[0].purchase.approved_date is None


def test_a_listing_without_its_stated_total_or_items_is_refused() -> None:
    for body in (b'{"items": []}', b'{"page_info": {"total_results": 0}}', b'{"items": {}, "page_info": {}}'):
        with pytest.raises(msgspec.ValidationError):
            SALES.decode(body)


def test_what_lands_is_each_items_exact_bytes() -> None:
    body = page(sale("10.05"), sale("1234567.89"))
    raw = RAW.decode(body).items
    assert [json.loads(bytes(r))["purchase"]["price"]["value"] for r in raw] == [10.05, 1234567.89]
    assert b'"value": 10.05' in bytes(raw[0]) and b'"value": 1234567.89' in bytes(raw[1])


# ------------------------------------------------------------------------------- dates


def test_epoch_milliseconds_are_exact_aware_utc() -> None:
    moment = from_millis(1622948400123)
    assert moment == datetime(2021, 6, 6, 3, 0, 0, 123000, tzinfo=UTC) and moment.utcoffset() == timedelta(0)
    assert to_millis(moment) == 1622948400123
    assert to_millis(moment + timedelta(microseconds=1)) == 1622948400124, "rounded up to the next millisecond"
    with pytest.raises(ValueError):
        to_millis(datetime(2021, 6, 6))


def test_an_interval_is_sent_as_its_inclusive_millisecond_bounds() -> None:
    day = Interval.for_dates(datetime(2026, 10, 5).date(), datetime(2026, 10, 5).date())
    start, end = window_millis(day.start, day.end) or (0, 0)
    assert from_millis(start) == datetime(2026, 10, 5, tzinfo=BUSINESS_TZ)
    assert from_millis(end + 1) == datetime(2026, 10, 6, tzinfo=BUSINESS_TZ), "end_date is the last millisecond"
    tiny = datetime(2026, 10, 5, tzinfo=UTC)
    assert window_millis(tiny, tiny + timedelta(microseconds=10)) == (to_millis(tiny),) * 2, "it holds millisecond t"
    assert window_millis(tiny + timedelta(microseconds=1), tiny + timedelta(microseconds=999)) is None


# ---------------------------------------------------------------------- payout documents


@pytest.mark.parametrize("document", ["14.380.200/0001-21", "14380200000121", "11222333000181", "123.456.789-09"])
def test_valid_payout_documents_pass_as_digits(document: str) -> None:
    assert check_payout_documents([document]) == ["".join(c for c in document if c.isdigit())]


@pytest.mark.parametrize("documents", [["14380200000120"], ["11222333000181", "12345678900"], ["abc"], []])
def test_invalid_or_no_payout_documents_are_not_linked(documents: list[str]) -> None:
    with pytest.raises(NotLinkedError) as raised:
        check_payout_documents(documents)
    assert not raised.value.retryable


# --------------------------------------------------------------------------- in the warehouse


def test_landed_amounts_read_back_exactly_as_numeric(clean_warehouse: str) -> None:
    values = {"HP0001": "10.05", "HP0002": "19.99", "HP0003": "1234567.89", "HP0004": "1.005"}
    records: list[RawRecord] = []
    for transaction, value in values.items():
        item = sale(value).replace("HP12455690122399", transaction)
        records.append(RawRecord("hotmart_sales", transaction, RAW.decode(page(item)).items[0], {"status": "APPROVED"}))
        detail = RAW.decode(page(price_details(transaction, value, "1.5"))).items[0]
        records.append(RawRecord("hotmart_price_details", transaction, detail, {"product_id": "8547854"}))
    with psycopg.connect(clean_warehouse) as conn:
        raw_writer.write(conn, records, tenant_id="t1", integration_id=1, sync_run_id=None)
        sales_rows = dict(
            conn.execute(
                "select external_id, (payload #>> '{purchase,price,value}')::numeric from raw.hotmart_sales"
            ).fetchall()
        )
        price_rows: dict[str, Any] = dict(
            conn.execute(
                "select external_id, (payload #>> '{total,value}')::numeric from raw.hotmart_price_details"
            ).fetchall()
        )
        conn.rollback()
    assert sales_rows == price_rows == {k: Decimal(v) for k, v in values.items()}
    assert str(sales_rows["HP0004"]) == "1.005" and str(sales_rows["HP0001"]) == "10.05"


def test_epoch_milliseconds_of_an_airflow_pendulum_interval_are_exact() -> None:
    """Airflow hands the DAG's interval as pendulum DateTimes; their differences are pendulum
    Durations, which do not floor-divide by a timedelta: the milliseconds are whole-number arithmetic."""
    import pendulum

    from plugins.providers.hotmart.records import to_millis, window_millis

    start = pendulum.datetime(2026, 10, 5, 3, 0, 0, 500, tz="UTC")
    assert to_millis(start) == 1_791_169_200_001 == to_millis(datetime(2026, 10, 5, 3, 0, 0, 500, tzinfo=UTC))
    assert window_millis(start - pendulum.duration(days=1), start) == (1_791_082_800_001, 1_791_169_200_000)
