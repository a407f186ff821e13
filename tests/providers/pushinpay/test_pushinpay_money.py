"""PushinPay money to the cent: integer centavos become exact reais, and nothing else is taken for centavos.

The values are ones binary floating point cannot hold (10.05, 19.99, 1234567.89, 0.1 + 0.2): going
through float anywhere would show here. The last test lands a charge in PostgreSQL and reads the
amount back as `numeric`, as staging will.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
import psycopg
import pytest

from ingestion import raw_writer
from plugins.providers.errors import NotLinkedError
from plugins.providers.pushinpay import shapes
from plugins.providers.pushinpay.records import check_payout_documents, reais
from plugins.providers.pushinpay.webhook import PushinPayWebhook

TRANSACTION = msgspec.json.Decoder(shapes.Transaction)

# The official "Consultar PIX" example, its placeholders filled in (value as the string it shows).
CONSULTAR_PIX = b"""{
  "id": "9FF86A1C-2B4D-4E6F-8A9B-0C1D2E3F4A5B",
  "status": "paid",
  "value": "1333",
  "description": "Pagamento PIX",
  "payment_type": "pix",
  "created_at": "2025-09-26T13:15:48.027000Z",
  "updated_at": "2025-09-26T13:15:48.027000Z",
  "webhook_url": null,
  "split_rules": [],
  "fee": null,
  "total": null,
  "end_to_end_id": "E18236120202509261315s0123456789",
  "payer_name": "Maria Souza",
  "payer_national_registration": "12345678909",
  "webhook": null,
  "emails": null,
  "pix_details": {"id": "9FF868", "expiration_date": "2081-06-23 02:31:34.997", "emv": "000201"},
  "transaction_product": []
}"""


@pytest.mark.parametrize(
    ("centavos", "expected"),
    [
        (1005, "10.05"),
        ("1005", "10.05"),
        (1999, "19.99"),
        (123456789, "1234567.89"),
        ("123456789", "1234567.89"),
        (50, "0.50"),  # PushinPay's minimum charge
        (1, "0.01"),
        (10, "0.10"),
        (0, "0.00"),
        (100, "1.00"),
        (999999999999999999, "9999999999999999.99"),
    ],
)
def test_centavos_become_exact_reais(centavos: int | str, expected: str) -> None:
    amount = reais(centavos)
    assert isinstance(amount, Decimal) and amount == Decimal(expected) and str(amount) == expected


def test_sums_are_exact_where_floats_are_not() -> None:
    assert 0.1 + 0.2 != 0.3, "the float problem this guards against"
    assert reais(10) + reais(20) == Decimal("0.30")
    assert sum((reais(1005), reais(1999), reais(123456789)), Decimal(0)) == Decimal("1234597.93")
    assert reais(1005) * 3 == Decimal("30.15")


@pytest.mark.parametrize(
    "value",
    [10.05, 1.005, 1005.0, "10.05", "1.005", "10,05", "1.005,00", "-1005", -1005, "", " 1005", "1e3", True, None],
)
def test_anything_but_whole_centavos_is_refused_not_rounded(value: object) -> None:
    with pytest.raises(ValueError):
        reais(value)  # type: ignore[arg-type]


def test_the_official_example_decodes_and_its_string_value_is_centavos() -> None:
    transaction = TRANSACTION.decode(CONSULTAR_PIX)
    assert (transaction.id, transaction.status, transaction.value) == (
        "9FF86A1C-2B4D-4E6F-8A9B-0C1D2E3F4A5B",
        "paid",
        "1333",
    )
    assert reais(transaction.value) == Decimal("13.33")
    assert transaction.created_at is not None and transaction.created_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("replace", "names"),
    [
        (b'"value": "1333"', "`$.value`"),  # removed below
        (b'"value": 13.33', "`$.value`"),
        (b'"value": 1.005', "`$.value`"),
        (b'"value": "13,33"', "`$.value`"),
        (b'"value": null', "`$.value`"),
        (b'"status": 1', "`$.status`"),
        (b'"created_at": "2025-09-26 13:15:48"', "`$.created_at`"),  # no time zone
        (b'"split_rules": [{"value": 0.3, "account_id": "9C3"}]', "`$.split_rules[0].value`"),
    ],
)
def test_a_transaction_with_a_missing_or_mistyped_field_is_refused(replace: bytes, names: str) -> None:
    body = CONSULTAR_PIX
    if replace == b'"value": "1333"':
        body = body.replace(b'"value": "1333",', b"")
        names = "missing required field `value`"
    else:
        field = replace.split(b":")[0]
        start = body.index(field)
        end = body.index(b",\n", start)
        body = body[:start] + replace + body[end:]
    with pytest.raises(msgspec.ValidationError, match=names.replace("$", r"\$").replace("[", r"\[")):
        TRANSACTION.decode(body)


@pytest.mark.parametrize("document", ["14.380.200/0001-21", "14380200000121", "11222333000181", "123.456.789-09"])
def test_valid_payout_documents_pass_as_digits(document: str) -> None:
    assert check_payout_documents([document]) == ["".join(c for c in document if c.isdigit())]


@pytest.mark.parametrize(
    "document", ["14380200000120", "11222333000180", "12345678900", "00000000000000", "1438020", "abc"]
)
def test_an_invalid_payout_document_is_not_linked_naming_it(document: str) -> None:
    with pytest.raises(NotLinkedError) as raised:
        check_payout_documents(["11222333000181", document])
    assert repr(document) in str(raised.value) and not raised.value.retryable


def test_a_landed_amount_reads_back_exactly_as_numeric(clean_warehouse: str) -> None:
    scheme = PushinPayWebhook()
    values = {"t-1005": 1005, "t-1999": 1999, "t-123456789": 123456789}
    records = [
        record
        for tid, value in values.items()
        for record in scheme.parse(f'{{"id": "{tid}", "status": "paid", "value": {value}}}'.encode()).records
    ]
    records += scheme.parse(b"id=t-form&status=paid&value=1005").records
    with psycopg.connect(clean_warehouse) as conn:
        raw_writer.write(conn, records, tenant_id="t1", integration_id=1, sync_run_id=None, source="webhook")
        rows = dict(
            conn.execute(
                "select external_id, ((payload ->> 'value')::numeric / 100)::numeric(18, 2)::text "
                "from raw.pushinpay_transactions"
            ).fetchall()
        )
    assert rows == {"t-1005": "10.05", "t-1999": "19.99", "t-123456789": "1234567.89", "t-form": "10.05"}
    assert {tid: str(reais(v)) for tid, v in values.items()} == {k: v for k, v in rows.items() if k != "t-form"}
