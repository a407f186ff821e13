"""The fake iFood over real HTTP: OAuth token, sales and financial events, paging, filters, errors."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from served_sandbox import FakeClock, Served, ifood_bearer

from sandbox.core.calendar import SAO_PAULO
from sandbox.core.tokens import TokenIssuer, derive_key
from sandbox.world import World

TOKEN = "/ifood/authentication/v1.0/oauth/token"
SALE_FIELDS = {
    "id",
    "shortId",
    "createdAt",
    "type",
    "category",
    "salesChannel",
    "currentStatus",
    "merchant",
    "saleGrossValue",
    "benefits",
    "delivery",
    "payments",
    "orderStatusHistory",
    "billingSummary",
    "orderEvents",
}
EVENT_FIELDS = {
    "name",
    "description",
    "product",
    "trigger",
    "dateTime",
    "competence",
    "period",
    "reference",
    "hasTransferImpact",
    "amount",
    "billing",
    "settlement",
    "receiver",
    "payment",
}
MONEY_TEXT = re.compile(r"-?\d+\.\d{2}")


def sales_url(merchant: str) -> str:
    return f"/ifood/financial/v3.0/merchants/{merchant}/sales"


def events_url(merchant: str) -> str:
    return f"/ifood/financial/v3.0/merchants/{merchant}/financial-events"


def all_sales(http: httpx.Client, headers: dict, merchant: str, begin: date, end: date) -> list[dict]:
    sales, page = [], 1
    while True:
        reply = http.get(
            sales_url(merchant),
            headers=headers,
            params={"beginSalesDate": begin.isoformat(), "endSalesDate": end.isoformat(), "page": page},
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert set(body) == {"beginSalesDate", "endSalesDate", "page", "size", "total", "pageCount", "sales"}
        assert body["page"] == page and body["size"] == 100 and len(body["sales"]) <= 100
        sales += body["sales"]
        if page >= body["pageCount"]:
            assert len(sales) == body["total"]
            return sales
        page += 1


def all_events(
    http: httpx.Client, headers: dict, merchant: str, begin: date, end: date, size: int | None = None
) -> tuple[list[dict], int]:
    events, page = [], 1
    while True:
        params = {"beginDate": begin.isoformat(), "endDate": end.isoformat(), "page": page}
        if size:
            params["size"] = size
        reply = http.get(events_url(merchant), headers=headers, params=params)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert set(body) == {"page", "size", "hasNextPage", "financialEvents"}
        assert body["size"] == (size or 100) and len(body["financialEvents"]) <= body["size"]
        events += body["financialEvents"]
        if not body["hasNextPage"]:
            return events, page
        page += 1


# ------------------------------------------------------------------------------------- auth


def test_client_credentials_token(http: httpx.Client, served: Served) -> None:
    creds = served.tenant()["ifood"]
    reply = http.post(
        TOKEN,
        data={
            "grantType": "client_credentials",
            "clientId": creds["client_id"],
            "clientSecret": creds["client_secret"],
        },
    )
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"accessToken", "type", "expiresIn"}
    assert body["type"] == "bearer" and body["expiresIn"] == 21600 and len(body["accessToken"]) < 8000


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"grantType": "client_credentials", "clientSecret": "wrong"}, 401),
        ({"grantType": "client_credentials", "clientId": "nobody", "clientSecret": "x"}, 401),
        ({"grantType": "password"}, 400),
        ({}, 400),
    ],
)
def test_token_errors(http: httpx.Client, served: Served, form: dict, status: int) -> None:
    form = {"clientId": served.tenant()["ifood"]["client_id"], **form}
    reply = http.post(TOKEN, data=form)
    assert reply.status_code == status
    error = reply.json()["error"]
    assert error["code"] and error["message"]
    if status == 400:
        assert error["field"] == "grantType"


def test_financial_endpoints_need_a_valid_bearer(http: httpx.Client, served: Served) -> None:
    merchant = served.tenant()["ifood"]["merchant_ids"][0]
    creds = served.tenant()["ifood"]
    expired = TokenIssuer(
        derive_key(served.world.config.seed, "ifood"),
        issuer="conciliador-sandbox/ifood",
        clock=lambda: time.time() - 7 * 3600,
    ).issue(creds["client_id"], 21600)
    params = {"beginSalesDate": "2026-10-01", "endSalesDate": "2026-10-01"}
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Basic {expired}"},
    ):
        reply = http.get(sales_url(merchant), headers=headers, params=params)
        assert reply.status_code == 401, headers
        assert reply.json()["error"]["code"] == "Unauthorized"


def test_a_merchant_of_another_application_is_forbidden(http: httpx.Client, served: Served) -> None:
    headers = ifood_bearer(http, served, tenant=0)
    other = served.tenant(1)["ifood"]["merchant_ids"][0]
    for url in (sales_url(other), events_url(other), sales_url("not-a-merchant")):
        reply = http.get(
            url,
            headers=headers,
            params={
                "beginSalesDate": "2026-10-01",
                "endSalesDate": "2026-10-01",
                "beginDate": "2026-10-01",
                "endDate": "2026-10-01",
            },
        )
        assert reply.status_code == 403
        assert reply.json()["error"]["code"] == "Forbidden"


# ------------------------------------------------------------------------------------ sales


def test_sales_pages_cover_every_order_once_with_the_reference_fields(http: httpx.Client, served: Served) -> None:
    world = served.world
    ifood = world.facts["ifood"]
    headers = ifood_bearer(http, served)
    merchant = served.tenant()["ifood"]["merchant_ids"][0]
    store = ifood.merchant_by_id[merchant]
    last = world.as_of - timedelta(days=1)
    sales = all_sales(http, headers, merchant, world.config.start, last)
    orders = {o.order_id: o for o in ifood.sales_by_merchant[merchant]}
    assert [s["id"] for s in sales] == list(orders) and len(sales) > 100
    assert not {o.order_id for o in ifood.orders_by_merchant[merchant] if not o.has_sale} & {s["id"] for s in sales}
    for sale in sales:
        order = orders[sale["id"]]
        assert set(sale) == SALE_FIELDS
        assert sale["merchant"] == {
            "id": merchant,
            "shortId": store.short_id,
            "name": store.name,
            "type": "RESTAURANT",
            "timezone": "America/Sao_Paulo",
            "documents": [{"value": store.cnpj_digits, "type": "CNPJ"}],
        }
        assert sale["createdAt"].endswith("Z")
        gross = sale["saleGrossValue"]
        assert (
            Decimal(str(gross["bag"])) + Decimal(str(gross["deliveryFee"])) + Decimal(str(gross["serviceFee"]))
            == order.gross
        )
        method = sale["payments"]["methods"][0]
        assert method["liability"] == "IFOOD" and method["type"] == "ONLINE"
        assert Decimal(str(method["value"])) == order.paid_by_customer
        entries = sale["billingSummary"]["billingEntries"]
        assert [e["name"] for e in entries] == [e.name for e in order.events]
        if order.events:
            assert Decimal(str(sale["billingSummary"]["saleBalance"])) == order.net
        assert sale["currentStatus"] == ("CANCELLED" if order.kind == "cancelled" else "CONCLUDED")
        assert [e["fullCode"] for e in sale["orderEvents"]] == [h["value"] for h in sale["orderStatusHistory"]]


def test_sales_are_filtered_by_their_sao_paulo_day(http: httpx.Client, served: Served) -> None:
    world = served.world
    ifood = world.facts["ifood"]
    headers = ifood_bearer(http, served)
    merchant = served.tenant()["ifood"]["merchant_ids"][1]
    late = next(
        o for o in ifood.orders_by_merchant[merchant] if o.created_at.date() != o.business_date
    )  # after 21:00 local: next day in UTC
    day = late.business_date
    same_day = {s["id"] for s in all_sales(http, headers, merchant, day, day)}
    assert late.order_id in same_day
    assert late.order_id not in {
        s["id"] for s in all_sales(http, headers, merchant, day + timedelta(days=1), day + timedelta(days=1))
    }
    assert same_day == {o.order_id for o in ifood.sales_by_merchant[merchant] if o.business_date == day}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"beginSalesDate": "2026-13-01", "endSalesDate": "2026-10-02"}, "beginSalesDate"),
        ({"beginSalesDate": "2026-10-01"}, "endSalesDate"),
        ({"beginSalesDate": "2026-10-05", "endSalesDate": "2026-10-01"}, "endSalesDate"),
        ({"beginSalesDate": "2026-01-01", "endSalesDate": "2026-04-01"}, "endSalesDate"),  # 91 days
        ({"beginSalesDate": "2026-10-01", "endSalesDate": "2026-10-02", "page": "0"}, "page"),
    ],
)
def test_sales_parameter_errors(http: httpx.Client, served: Served, params: dict, field: str) -> None:
    merchant = served.tenant()["ifood"]["merchant_ids"][0]
    reply = http.get(sales_url(merchant), headers=ifood_bearer(http, served), params=params)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert set(error) == {"code", "message", "field", "details"} and error["field"] == field


def test_a_ninety_day_window_is_accepted_and_empty_pages_are_well_formed(http: httpx.Client, served: Served) -> None:
    merchant = served.tenant()["ifood"]["merchant_ids"][0]
    reply = http.get(
        sales_url(merchant),
        headers=ifood_bearer(http, served),
        params={"beginSalesDate": "2026-01-01", "endSalesDate": "2026-03-31"},
    )
    assert reply.status_code == 200
    assert reply.json()["total"] == reply.json()["pageCount"] == 0 and reply.json()["sales"] == []


# ----------------------------------------------------------------------------------- events


def test_events_pages_cover_every_event_once(http: httpx.Client, served: Served) -> None:
    world = served.world
    ifood = world.facts["ifood"]
    headers = ifood_bearer(http, served)
    merchant = served.tenant()["ifood"]["merchant_ids"][0]
    store = ifood.merchant_by_id[merchant]
    first, last = world.config.start, world.as_of - timedelta(days=1)
    events, pages = all_events(http, headers, merchant, first, last)
    expected = ifood.events_by_merchant[merchant]
    assert len(events) == len(expected) and pages == -(-len(expected) // 100) > 2
    big_pages, n_big = all_events(http, headers, merchant, first, last, size=500)
    assert big_pages == events and n_big == -(-len(expected) // 500)
    net: dict[str, Decimal] = defaultdict(Decimal)
    for event in events:
        assert set(event) == EVENT_FIELDS
        assert MONEY_TEXT.fullmatch(event["amount"]["value"])
        assert event["hasTransferImpact"] is True and event["reference"]["type"] == "ORDER"
        assert event["receiver"] == {
            "businessId": merchant,
            "businessType": "MERCHANT",
            "businessDocument": store.cnpj_digits,
        }
        assert event["payment"]["liability"] == "IFOOD"
        assert event["competence"] == event["reference"]["date"][:7]
        if event["billing"] is not None:
            assert MONEY_TEXT.fullmatch(event["billing"]["baseValue"])
        net[event["reference"]["id"]] += Decimal(event["amount"]["value"])
    for order in ifood.orders_by_merchant[merchant]:
        assert net.get(order.order_id, Decimal(0)) == order.net
        if order.events:
            expected_dates = {world.config.expected_payment_date(e.business_date).isoformat() for e in order.events}
            assert {e["settlement"]["expectedDate"] for e in events if e["reference"]["id"] == order.order_id} == (
                expected_dates
            )


def test_events_are_filtered_by_their_sao_paulo_day(http: httpx.Client, served: Served) -> None:
    world = served.world
    headers = ifood_bearer(http, served)
    merchant = served.tenant(1)["ifood"]["merchant_ids"][0]
    headers = ifood_bearer(http, served, tenant=1)
    day = world.config.start + timedelta(days=4)
    events, _ = all_events(http, headers, merchant, day, day)
    local_days = {datetime.fromisoformat(e["dateTime"]).astimezone(SAO_PAULO).date() for e in events}
    assert local_days == {day}
    assert len(events) == sum(1 for e in world.facts["ifood"].events_by_merchant[merchant] if e.local_date == day)
    assert any(e["dateTime"][:10] != day.isoformat() for e in events), "some are on the next UTC day"


def test_cancellation_events_use_varied_spellings(http: httpx.Client, served: Served) -> None:
    names = set()
    for tenant in (0, 1):
        headers = ifood_bearer(http, served, tenant)
        for merchant in served.tenant(tenant)["ifood"]["merchant_ids"]:
            events, _ = all_events(
                http, headers, merchant, served.world.config.start, served.world.as_of - timedelta(days=1), size=500
            )
            names |= {(e["name"], e["description"]) for e in events if e["trigger"] == "SALE_CANCELLED"}
    assert len(names) >= 2
    for name, description in names:
        assert re.search(r"cancel|estorno", f"{name} {description}", re.IGNORECASE)


@pytest.mark.parametrize(
    "params",
    [
        {"beginDate": "2026-10-01", "endDate": "2026-10-02", "size": "501"},
        {"beginDate": "2026-10-01", "endDate": "2026-10-02", "size": "0"},
        {"beginDate": "yesterday", "endDate": "2026-10-02"},
        {"endDate": "2026-10-02"},
    ],
)
def test_events_parameter_errors(http: httpx.Client, served: Served, params: dict) -> None:
    merchant = served.tenant()["ifood"]["merchant_ids"][0]
    reply = http.get(events_url(merchant), headers=ifood_bearer(http, served), params=params)
    assert reply.status_code == 400
    assert set(reply.json()["error"]) == {"code", "message", "field", "details"}


# -------------------------------------------------------------------------------- rate limits


def test_ifood_429_has_retry_after_and_x_ratelimit_headers(limited: tuple[str, World, FakeClock]) -> None:
    base_url, world, clock = limited
    creds = world.credentials(base_url)["tenants"][0]["ifood"]
    form = {"grantType": "client_credentials", "clientId": creds["client_id"], "clientSecret": creds["client_secret"]}
    with httpx.Client(base_url=base_url) as http:
        clock.advance(1.5)
        replies = [http.post("/ifood/authentication/v1.0/oauth/token", data=form) for _ in range(3)]
        assert [r.status_code for r in replies] == [200, 200, 429]
        headers = replies[-1].headers
        assert headers["x-ratelimit-limit"] == "2" and headers["x-ratelimit-remaining"] == "0"
        assert headers["retry-after"] == headers["x-ratelimit-reset"] == "2"
        assert replies[-1].json()["error"]["code"] == "TooManyRequests"
