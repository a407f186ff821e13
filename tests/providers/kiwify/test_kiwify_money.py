"""Kiwify money to the cent: integer centavos become exact reais, and nothing else is taken for centavos.

The values are ones binary floating point cannot hold (10.05, 19.99, 1234567.89, 0.1 + 0.2), and
1.005, as a platform would render a three-decimal amount: going through float anywhere, or rounding
instead of refusing, would show here. The sale and payout bodies are Kiwify's official examples
(`/api-reference/sales/single`, `/api-reference/finance/payouts/single`). The last test lands
them in PostgreSQL and reads the amounts back as `numeric`, as staging will.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import psycopg
import pytest

from ingestion import raw_writer
from plugins.providers.base import RawRecord
from plugins.providers.kiwify import shapes
from plugins.providers.kiwify.records import reais
from plugins.providers.kiwify.webhook import KiwifyWebhook

SALE = msgspec.json.Decoder(shapes.Sale)
SALES_PAGE = msgspec.json.Decoder(shapes.SalesPage)
SALES_PAGE_RAW = msgspec.json.Decoder(shapes.SalesPageRaw)
PAYOUT = msgspec.json.Decoder(shapes.Payout)
TOKEN = msgspec.json.Decoder(shapes.Token)

# Kiwify's "Consultar venda" example, as the docs show it.
SALE_EXAMPLE: dict[str, Any] = {
    "id": "fc96cec5-1ff1-49b3-aa22-0e131f353b62",
    "reference": "iYJwhMP",
    "type": "product",
    "created_at": "2023-10-31T16:34:35.491Z",
    "updated_at": "2023-10-31T16:36:02.005Z",
    "product": {"id": "aaa86f40-d7ae-11ed-acc6-e1c45591a30e", "name": "My Product"},
    "shipping": {"id": "255f7ae0-8694-40f9-b905-7507fe6bc58f", "name": "Entrega Grátis", "price": 0},
    "status": "paid",
    "payment_method": "credit_card",
    "net_amount": 8853,
    "currency": "USD",
    "customer": {"id": "b17dd04e-5acc-41ae-a4b2-cba0d2436406", "name": "my customer", "cpf": "99999999999"},
    "approved_date": "2023-10-31T16:34:35.491Z",
    "boleto_url": None,
    "card_last_digits": "1115",
    "card_rejection_reason": None,
    "card_type": "mastercard",
    "installments": 12,
    "is_one_click": True,
    "parent_order_id": None,
    "payment": {
        "charge_amount": 10388,
        "charge_currency": "BRL",
        "net_amount": 8853,
        "product_base_price": 60037,
        "product_base_currency": "BRL",
        "settlement_amount": 8853,
        "settlement_currency": "USD",
        "fee": 984,
        "fee_currency": "USD",
        "sale_tax_rate": 5.6,
        "sale_tax_amount": 551,
    },
    "refunded_at": None,
    "sale_type": "producer",
    "tracking": {"sck": None, "src": None, "utm_campaign": None, "s1": None},
    "two_cards": False,
    "revenue_partners": [
        {
            "account_id": "RpL2PsVt7gEN50Q",
            "legal_name": "My Coproducer",
            "document_id": "12345678910",
            "percentage": 50,
            "net_amount_split": 4426,
            "charge_amount_split": 5000,
        }
    ],
    "affiliate_commission": {
        "name": "My affiliate",
        "document": "123456789",
        "email": "aff@example.com",
        "amount": 2849,
    },
}
PAYOUT_EXAMPLE = (
    b'{"id": "8606aae0-e036-4e55-998a-e0a8de7bf54f", "amount": 49633, "status": "pending_review", '
    b'"legal_entity_id": "d644de3d-9a02-46b1-aed4-72785fe8828f", "created_at": "2023-11-29T14:38:08.740Z", '
    b'"updated_at": "2023-11-29T14:38:08.740Z"}'
)


def sale_body(**changes: Any) -> bytes:
    return json.dumps({**SALE_EXAMPLE, **changes}, ensure_ascii=False).encode()


def with_payment(**changes: Any) -> bytes:
    return sale_body(payment={**SALE_EXAMPLE["payment"], **changes})


@pytest.mark.parametrize(
    ("centavos", "expected"),
    [
        (1005, "10.05"),
        ("1005", "10.05"),
        (1999, "19.99"),
        (123456789, "1234567.89"),
        ("123456789", "1234567.89"),
        (10388, "103.88"),
        (1, "0.01"),
        (10, "0.10"),
        (0, "0.00"),
        (100, "1.00"),
        (999999999999999999, "9999999999999999.99"),  # beyond float's 15-16 significant digits
    ],
)
def test_centavos_become_exact_reais(centavos: int | str, expected: str) -> None:
    amount = reais(centavos)
    assert isinstance(amount, Decimal) and amount == Decimal(expected) and str(amount) == expected


def test_sums_are_exact_where_floats_are_not() -> None:
    assert 0.1 + 0.2 != 0.3, "the float problem this guards against"
    assert 10.05 * 100 != 1005, "and its twin: reais as floats do not round-trip through centavos"
    assert reais(10) + reais(20) == Decimal("0.30")
    assert sum((reais(1005), reais(1999), reais(123456789)), Decimal(0)) == Decimal("1234597.93")
    assert reais(1005) * 3 == Decimal("30.15")
    assert reais(10388) - reais(984) - reais(4426) - reais(2849) == Decimal("21.29")


@pytest.mark.parametrize(
    "value",
    [
        10.05,
        1.005,
        1005.0,
        19.99,
        "10.05",
        "1.005",
        "10,05",
        "1.005,00",
        "-1005",
        -1005,
        "",
        " 1005",
        "1e3",
        True,
        None,
    ],
)
def test_anything_but_whole_centavos_is_refused_not_rounded(value: object) -> None:
    with pytest.raises(ValueError):
        reais(value)  # type: ignore[arg-type]


def test_the_official_sale_example_decodes_and_its_centavos_are_exact_reais() -> None:
    sale = SALE.decode(sale_body())
    assert (sale.id, sale.status, sale.payment_method, sale.installments) == (
        "fc96cec5-1ff1-49b3-aa22-0e131f353b62",
        "paid",
        "credit_card",
        12,
    )
    assert sale.created_at.utcoffset() is not None and sale.approved_date is not None
    assert (reais(sale.payment.charge_amount), reais(sale.payment.fee), reais(sale.payment.net_amount)) == (
        Decimal("103.88"),
        Decimal("9.84"),
        Decimal("88.53"),
    )
    assert sale.revenue_partners is not None and sale.affiliate_commission is not None
    partner = sale.revenue_partners[0]
    assert (reais(partner.net_amount_split), reais(partner.charge_amount_split)) == (Decimal("44.26"), Decimal("50.00"))
    assert partner.percentage == Decimal("50") and reais(sale.affiliate_commission.amount) == Decimal("28.49")
    assert (sale.payment.fee_currency, sale.payment.settlement_currency) == ("USD", "USD"), "kept for staging to check"


def test_a_listed_page_lands_each_sale_as_the_exact_bytes_kiwify_sent() -> None:
    odd = b'{"id": "s-1005", "status": "paid", "payment_method": "pix", "created_at": "2026-10-01T12:00:00.000Z", '
    odd += b'"updated_at": "2026-10-01T12:00:00.000Z", "product": {"id": "p1"}, '
    odd += b'"payment": {"charge_amount": 1005, "fee": 199, "net_amount":   806, "sale_tax_rate": 5.60}}'
    body = (
        b'{"pagination": {"count": 2, "page_number": 1, "page_size": 100}, "data": ['
        + odd
        + b", "
        + sale_body()
        + b"]}"
    )
    typed, raw = SALES_PAGE.decode(body), SALES_PAGE_RAW.decode(body)
    assert [s.id for s in typed.data] == ["s-1005", "fc96cec5-1ff1-49b3-aa22-0e131f353b62"]
    assert bytes(raw.data[0]) == odd, "spacing and the rate's trailing zero kept: nothing re-encoded"
    assert bytes(raw.data[1]) == sale_body()


def test_the_official_payout_example_decodes_to_exact_reais() -> None:
    payout = PAYOUT.decode(PAYOUT_EXAMPLE)
    assert (payout.id, payout.status, reais(payout.amount)) == (
        "8606aae0-e036-4e55-998a-e0a8de7bf54f",
        "pending_review",
        Decimal("496.33"),
    )
    assert payout.created_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (with_payment(charge_amount=103.88), "`$.payment.charge_amount`"),
        (with_payment(charge_amount=10388.0), "`$.payment.charge_amount`"),
        (with_payment(charge_amount=1.005), "`$.payment.charge_amount`"),
        (with_payment(charge_amount="10388"), "`$.payment.charge_amount`"),
        (with_payment(fee=None), "`$.payment.fee`"),
        (with_payment(fee=-984), "`$.payment.fee`"),
        (with_payment(net_amount="88,53"), "`$.payment.net_amount`"),
        (sale_body(payment=None), "`$.payment`"),
        (sale_body(status=""), "`$.status`"),
        (sale_body(id="../payouts"), "`$.id`"),
        (sale_body(product={"name": "no id"}), "`id`"),
        (sale_body(created_at="2023-10-31 16:34"), "`$.created_at`"),  # no offset
        (sale_body(installments=0), "`$.installments`"),
        (
            sale_body(revenue_partners=[{"account_id": "x", "net_amount_split": 44.26, "charge_amount_split": 50}]),
            "net_amount_split",
        ),
        (sale_body(affiliate_commission={"document": "1", "amount": "28,49"}), "`$.affiliate_commission.amount`"),
    ],
)
def test_a_sale_with_a_missing_or_mistyped_field_is_refused(body: bytes, names: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=names.replace("$", r"\$").replace("[", r"\[")):
        SALE.decode(body)


def test_a_sale_without_its_payment_is_refused() -> None:
    fields = dict(SALE_EXAMPLE)
    del fields["payment"]
    with pytest.raises(msgspec.ValidationError, match="missing required field `payment`"):
        SALE.decode(json.dumps(fields).encode())


@pytest.mark.parametrize(
    ("expires_in", "ok"), [(86400, True), ("86400", True), (0, False), ("86400.5", False), (86400.0, False)]
)
def test_the_token_lifetime_is_whole_seconds_as_a_number_or_its_digits(expires_in: object, ok: bool) -> None:
    body = json.dumps({"access_token": "eyJ.x.y", "token_type": "Bearer", "expires_in": expires_in}).encode()
    if ok:
        assert int(TOKEN.decode(body).expires_in) == 86400
    else:
        with pytest.raises(msgspec.ValidationError, match="expires_in"):
            TOKEN.decode(body)


def test_a_landed_amount_reads_back_exactly_as_numeric(clean_warehouse: str) -> None:
    scheme = KiwifyWebhook()
    sales = {
        cents: sale_body(id=f"s-{cents}", payment={**SALE_EXAMPLE["payment"], "charge_amount": cents})
        for cents in (1005, 1999, 123456789)
    }
    records = [RawRecord("kiwify_sales", f"s-{cents}", body, {"status": "paid"}) for cents, body in sales.items()]
    records.append(
        RawRecord(
            "kiwify_payouts", "8606aae0-e036-4e55-998a-e0a8de7bf54f", PAYOUT_EXAMPLE, {"status": "pending_review"}
        )
    )
    notification = {
        "order_id": "s-1005",
        "order_status": "paid",
        "webhook_event_type": "order_approved",
        "Commissions": {"charge_amount": 1005, "kiwify_fee": "199"},
    }
    records += scheme.parse(json.dumps(notification).encode()).records
    with psycopg.connect(clean_warehouse) as conn:
        raw_writer.write(conn, records, tenant_id="t1", integration_id=1, sync_run_id=None)
        charged = dict(
            conn.execute(
                "select external_id, ((payload -> 'payment' ->> 'charge_amount')::numeric / 100)::numeric(18, 2)::text "
                "from raw.kiwify_sales"
            ).fetchall()
        )
        payout = conn.execute(
            "select ((payload ->> 'amount')::numeric / 100)::numeric(18, 2)::text from raw.kiwify_payouts"
        ).fetchone()
        event = conn.execute(
            "select order_id, ((payload -> 'Commissions' ->> 'charge_amount')::numeric / 100)::numeric(18, 2)::text, "
            "((payload -> 'Commissions' ->> 'kiwify_fee')::numeric / 100)::numeric(18, 2)::text "
            "from raw.kiwify_webhook_events"
        ).fetchone()
    assert charged == {"s-1005": "10.05", "s-1999": "19.99", "s-123456789": "1234567.89"}
    assert charged == {f"s-{cents}": str(reais(cents)) for cents in sales}
    assert payout == ("496.33",)
    assert event == ("s-1005", "10.05", "1.99")
