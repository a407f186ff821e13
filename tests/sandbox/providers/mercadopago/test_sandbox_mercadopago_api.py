"""The fake Mercado Pago over real HTTP: wire format and money to the cent, paging and its end, date
filters, sorting, auth, errors, rate limit, and the official `mercadopago` SDK pointed at it unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
import mercadopago
import pytest
from mercadopago.errors import MPAuthenticationError
from mercadopago.http import HttpClient
from served_sandbox import TINY, FakeClock, Served

from sandbox.core.calendar import SAO_PAULO
from sandbox.options import ServerOptions
from sandbox.providers.mercadopago.facts import MercadoPagoFacts
from sandbox.providers.mercadopago.records import Payment
from sandbox.server import start_in_thread
from sandbox.world import World

NAME = "mercadopago"
SEARCH = f"/{NAME}/v1/payments/search"
MP_BASE = "https://api.mercadopago.com"


def facts_of(world: World) -> MercadoPagoFacts:
    facts = world.facts[NAME]
    assert isinstance(facts, MercadoPagoFacts)
    return facts


def account_entry(served: Served, tenant: int = 0, store: int = 0) -> dict[str, Any]:
    return served.tenant(tenant)[NAME]["accounts"][store]


def bearer(entry: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {entry['access_token']}"}


def decimal_json(response: httpx.Response) -> Any:
    """The body with every JSON number that has a fraction read as the exact Decimal of its digits."""
    return json.loads(response.text, parse_float=Decimal)


def walk(http: httpx.Client, headers: dict[str, str], params: dict[str, Any], limit: int = 50) -> tuple[list, int]:
    """Every payment of a search, following offset until offset + results reaches paging.total."""
    rows: list[dict[str, Any]] = []
    offset, total = 0, None
    while True:
        reply = http.get(SEARCH, params={**params, "offset": offset, "limit": limit}, headers=headers)
        assert reply.status_code == 200, reply.text
        body = decimal_json(reply)
        assert body["paging"]["limit"] == limit and body["paging"]["offset"] == offset
        total = body["paging"]["total"] if total is None else total
        assert body["paging"]["total"] == total, "the stated total does not move between pages"
        assert len(body["results"]) <= limit
        rows += body["results"]
        offset += len(body["results"])
        if offset >= total:
            return rows, total
        assert body["results"], "an empty page before the stated total"


def sp(moment: datetime) -> str:
    return moment.astimezone(SAO_PAULO).isoformat(timespec="milliseconds")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def own_payments(served: Served, tenant: int = 0, store: int = 0) -> list[Payment]:
    facts = facts_of(served.world)
    return facts.payments_by_account[account_entry(served, tenant, store)["name"]]


# ------------------------------------------------------------------------------ wire format


def test_every_payment_is_served_exactly_as_the_world_holds_it(http: httpx.Client, served: Served) -> None:
    facts = facts_of(served.world)
    for t, tenant in enumerate(served.world.tenants):
        for s, _ in enumerate(tenant.stores):
            entry = account_entry(served, t, s)
            rows, total = walk(http, bearer(entry), {"begin_date": "NOW-1MONTHS", "end_date": "NOW"})
            mine = facts.payments_by_account[entry["name"]]
            assert total == len(rows) == len(mine) > 50, "several pages per account"
            assert sorted(r["id"] for r in rows) == sorted(p.payment_id for p in mine)
            for row in rows:
                p = facts.payment_by_id[row["id"]]
                assert row["transaction_amount"] == p.gross
                assert row["currency_id"] == "BRL" and row["live_mode"] is False
                assert row["external_reference"] == row["metadata"]["order_id"] == p.order.order_id
                assert row["metadata"] == {
                    "order_id": p.order.order_id,
                    "product_id": p.order.product_id,
                    "affiliate_id": p.order.affiliate_id,
                }
                assert row["collector_id"] == p.collector_id
                assert row["installments"] == p.order.installments
                assert row["operation_type"] == "regular_payment"
                assert row["payment_type_id"] == ("credit_card" if p.order.method == "card" else "bank_transfer")
                assert (row["payment_method_id"] == "pix") == (p.order.method == "pix")
                fees = {f["type"]: f["amount"] for f in row["fee_details"]}
                assert all(f["fee_payer"] == "collector" for f in row["fee_details"])
                if p.took_money:
                    assert fees == {"mercadopago_fee": p.mp_fee, "application_fee": p.application_fee}
                    net = row["transaction_details"]["net_received_amount"]
                    assert (
                        net == p.gross - p.mp_fee - p.application_fee == row["transaction_amount"] - sum(fees.values())
                    )
                else:
                    assert fees == {} and row["transaction_details"]["net_received_amount"] == 0
                    assert row["money_release_date"] is None and row["money_release_status"] is None
                for text in (row["date_created"], row["date_last_updated"]):
                    assert text.endswith("-04:00") and len(text) == len("2026-10-01T10:00:00.000-04:00")
                assert _instant(row["date_created"]) == p.created_at
                now = datetime.combine(served.world.as_of, time(), SAO_PAULO)
                happened = [row["date_created"], row["date_last_updated"], row["date_approved"]]
                happened += [r["date_created"] for r in row["refunds"]]
                assert all(_instant(t) < now for t in happened if t), "nothing after the world's as_of"
                if row["money_release_status"] == "released":
                    assert _instant(row["money_release_date"]) < now
                assert _instant(row["date_last_updated"]) == p.last_updated
                assert row["transaction_amount_refunded"] == p.refunded_amount
                for refund, r in zip(row["refunds"], p.refunds, strict=True):
                    assert refund["date_created"].endswith("-03:00")
                    assert refund["amount"] == r.amount and refund["payment_id"] == p.payment_id
                    assert _instant(refund["date_created"]) == r.created_at


def test_money_is_written_as_exact_json_numbers(http: httpx.Client, served: Served) -> None:
    entry = account_entry(served)
    reply = http.get(SEARCH, params={"limit": 50, "begin_date": "NOW-1MONTHS"}, headers=bearer(entry))
    raw = json.loads(reply.text)  # floats, as a plain client reads them
    exact = decimal_json(reply)
    for plain, precise in zip(raw["results"], exact["results"], strict=True):
        assert isinstance(plain["transaction_amount"], float)
        assert Decimal(repr(plain["transaction_amount"])) == precise["transaction_amount"]
        assert precise["transaction_amount"] == precise["transaction_amount"].quantize(Decimal("0.01"))


def test_one_payment_is_the_same_object_as_in_the_search(http: httpx.Client, served: Served) -> None:
    entry = account_entry(served, 1, 1)
    listed = http.get(SEARCH, params={"limit": 5, "begin_date": "NOW-1MONTHS"}, headers=bearer(entry)).json()
    for row in listed["results"]:
        reply = http.get(f"/{NAME}/v1/payments/{row['id']}", headers=bearer(entry))
        assert reply.status_code == 200 and reply.json() == row


def test_users_me_is_the_tokens_account_with_its_store_cnpj(http: httpx.Client, served: Served) -> None:
    facts = facts_of(served.world)
    for tenant in served.credentials["tenants"]:
        for entry in tenant[NAME]["accounts"]:
            me = http.get(f"/{NAME}/users/me", headers=bearer(entry)).json()
            account = facts.account_by_name[entry["name"]]
            assert me["id"] == account.collector_id and me["site_id"] == "MLB"
            assert me["identification"] == {"type": "CNPJ", "number": entry["payout_documents"][0]}
            assert entry["access_token"].endswith(f"-{me['id']}")


# ------------------------------------------------------------------------------ paging


def test_paging_defaults_end_signal_and_limits(http: httpx.Client, served: Served) -> None:
    headers = bearer(account_entry(served))
    mine = own_payments(served)
    first = http.get(SEARCH, params={"begin_date": "NOW-1MONTHS"}, headers=headers).json()
    assert first["paging"] == {"total": len(mine), "limit": 30, "offset": 0} and len(first["results"]) == 30
    last_offset = len(mine) - 7
    tail = http.get(SEARCH, params={"begin_date": "NOW-1MONTHS", "offset": last_offset}, headers=headers).json()
    assert len(tail["results"]) == 7 and tail["paging"]["offset"] + len(tail["results"]) == tail["paging"]["total"]
    past = http.get(SEARCH, params={"begin_date": "NOW-1MONTHS", "offset": len(mine)}, headers=headers).json()
    assert past["results"] == [] and past["paging"]["total"] == len(mine)
    ok = http.get(SEARCH, params={"limit": 50, "offset": 10_000}, headers=headers)
    assert ok.status_code == 200 and ok.json()["results"] == []
    for params in ({"limit": 51}, {"offset": 10_001}):
        refused = http.get(SEARCH, params=params, headers=headers)
        assert refused.status_code == 400
        assert refused.json() == {
            "message": "Number of rows exceeded the limits.",
            "error": "bad_request",
            "status": 400,
            "cause": [{"code": 1000, "description": "Number of rows exceeded the limits.", "data": None}],
        }
    for params in ({"limit": "ten"}, {"offset": "-1"}):
        assert http.get(SEARCH, params=params, headers=headers).json()["cause"][0]["code"] == 1


def test_sort_and_criteria(http: httpx.Client, served: Served) -> None:
    headers = bearer(account_entry(served, 0, 1))
    mine = own_payments(served, 0, 1)
    for sort in ("date_created", "date_last_updated", "id"):
        rows, _ = walk(http, headers, {"sort": sort, "criteria": "asc", "begin_date": "NOW-1MONTHS"})
        key = [r[sort] if sort == "id" else _instant(r[sort]) for r in rows]
        assert key == sorted(key)
        down, _ = walk(http, headers, {"sort": sort, "criteria": "desc", "begin_date": "NOW-1MONTHS"})
        key_down = [r[sort] if sort == "id" else _instant(r[sort]) for r in down]
        assert key_down == sorted(key_down, reverse=True) and len(down) == len(rows) == len(mine)
    approved, _ = walk(http, headers, {"sort": "date_approved", "criteria": "asc", "begin_date": "NOW-1MONTHS"})
    dates = [r["date_approved"] for r in approved]
    never = sum(p.approved_at is None for p in mine)
    assert dates[len(dates) - never :] == [None] * never, "payments never approved come last"
    assert [_instant(d) for d in dates[: len(dates) - never]] == sorted(_instant(d) for d in dates if d)
    for params, code in (({"sort": "amount"}, 1003), ({"criteria": "up"}, 1004)):
        reply = http.get(SEARCH, params=params, headers=headers)
        assert reply.status_code == 400 and reply.json()["cause"][0]["code"] == code


# ------------------------------------------------------------------------------ date filters


@pytest.mark.parametrize("field", ["date_created", "date_last_updated", "date_approved", "money_release_date"])
def test_date_ranges_are_inclusive_instants_in_any_offset(http: httpx.Client, served: Served, field: str) -> None:
    headers = bearer(account_entry(served, 1, 0))
    mine = own_payments(served, 1, 0)
    moment = {
        "date_created": lambda p: p.created_at,
        "date_last_updated": lambda p: p.last_updated,
        "date_approved": lambda p: p.approved_at,
        "money_release_date": lambda p: p.release_at if p.took_money else None,
    }[field]
    dated = sorted({moment(p) for p in mine if moment(p) is not None})
    begin, end = dated[len(dated) // 4], dated[3 * len(dated) // 4]  # both bounds are some payment's own instant
    expected = {p.payment_id for p in mine if moment(p) is not None and begin <= moment(p) <= end}
    for bounds in (
        (begin.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"), end.isoformat()),
        (begin.astimezone(SAO_PAULO).isoformat(timespec="milliseconds"), sp(end)),
        (begin.astimezone(SAO_PAULO).isoformat(timespec="seconds"), end.astimezone(SAO_PAULO).isoformat()),
    ):
        rows, total = walk(http, headers, {"range": field, "begin_date": bounds[0], "end_date": bounds[1]})
        assert {r["id"] for r in rows} == expected and total == len(expected)
    just_after = http.get(
        SEARCH,
        params={"range": field, "begin_date": sp(end + timedelta(milliseconds=1)), "end_date": sp(end)},
        headers=headers,
    ).json()
    assert just_after["paging"]["total"] == 0


def test_now_relative_dates_count_back_from_the_worlds_as_of(http: httpx.Client, served: Served) -> None:
    headers = bearer(account_entry(served))
    mine = own_payments(served)
    now = datetime.combine(served.world.as_of, time(), SAO_PAULO)
    for text, start in (("NOW-3DAYS", now - timedelta(days=3)), ("NOW-36HOURS", now - timedelta(hours=36))):
        rows, _ = walk(http, headers, {"range": "date_created", "begin_date": text, "end_date": "NOW"})
        assert {r["id"] for r in rows} == {p.payment_id for p in mine if start <= p.created_at <= now}
    for bad in ("2026-10-01", "2026-10-01T10:00:00", "yesterday", "NOW-3YEARS"):
        reply = http.get(SEARCH, params={"begin_date": bad}, headers=headers)
        assert reply.status_code == 400 and reply.json()["cause"][0]["code"] == 1001, bad


def test_exact_filters(http: httpx.Client, served: Served) -> None:
    headers = bearer(account_entry(served))
    mine = own_payments(served)
    target = mine[len(mine) // 2]
    one = http.get(SEARCH, params={"external_reference": target.order.order_id}, headers=headers).json()
    assert [r["id"] for r in one["results"]] == [target.payment_id]
    for status in ("approved", "refunded", "rejected", "cancelled"):
        rows, _ = walk(http, headers, {"status": status, "begin_date": "NOW-1MONTHS"})
        assert {r["id"] for r in rows} == {p.payment_id for p in mine if p.status == status}
    pix, _ = walk(http, headers, {"payment_type_id": "bank_transfer", "begin_date": "NOW-1MONTHS"})
    assert {r["id"] for r in pix} == {p.payment_id for p in mine if p.order.method == "pix"}


# ------------------------------------------------------------------------------ auth and errors


def test_auth_failures_use_mercado_pagos_envelopes(http: httpx.Client, served: Served) -> None:
    bad = http.get(SEARCH, headers={"Authorization": "Bearer APP_USR-1-010101-" + "0" * 32 + "-1"})
    assert bad.status_code == 401
    assert bad.json() == {"message": "invalid access token", "error": "unauthorized", "status": 401, "cause": []}
    for headers in ({}, {"Authorization": account_entry(served)["access_token"]}):
        missing = http.get(f"/{NAME}/users/me", headers=headers)
        assert missing.status_code == 403 and missing.json()["code"] == "PA_UNAUTHORIZED_RESULT_FROM_POLICIES"
    other = own_payments(served, 1, 1)[0]
    hidden = http.get(f"/{NAME}/v1/payments/{other.payment_id}", headers=bearer(account_entry(served)))
    assert hidden.status_code == 404 and hidden.json()["cause"][0]["code"] == 2000
    unknown = http.get(f"/{NAME}/v1/nothing", headers=bearer(account_entry(served)))
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


@pytest.fixture(scope="module")
def limited_mp() -> Iterator[tuple[str, World, FakeClock]]:
    world = World(TINY)
    clock = FakeClock()
    options = ServerOptions(rate_limit_window_s=1.5).with_platform(NAME, rate_limit=2)
    base_url, stop = start_in_thread(world, port=0, options=options, clock=clock)
    yield base_url, world, clock
    stop()


def test_rate_limit_per_token_and_endpoint(limited_mp: tuple[str, World, FakeClock]) -> None:
    base_url, world, clock = limited_mp
    entry = world.credentials(base_url)["tenants"][0][NAME]["accounts"][0]
    with httpx.Client(base_url=base_url) as http:
        answers = [http.get(SEARCH, headers=bearer(entry)).status_code for _ in range(3)]
        assert answers == [200, 200, 429]
        refused = http.get(SEARCH, headers=bearer(entry))
        assert refused.json()["error"] == "too_many_requests" and int(refused.headers["Retry-After"]) >= 1
        assert http.get(f"/{NAME}/users/me", headers=bearer(entry)).status_code == 200, "another endpoint"
        clock.advance(1.5)
        assert http.get(SEARCH, headers=bearer(entry)).status_code == 200, "a new window"
    assert ServerOptions().with_rate_limit(None).rate_limits()[NAME] is None


# ------------------------------------------------------------------------------ official SDK


class SandboxHttpClient(HttpClient):
    """The SDK's own `HttpClient` (its documented `http_client` extension point), sending every
    request to the sandbox instead of MP's host; nothing of the SDK is patched."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def request(self, method, url, maxretries=None, retry_on=None, backoff_factor=None, **kwargs):
        assert url.startswith(MP_BASE), url
        return super().request(
            method, self.base_url + url[len(MP_BASE) :], maxretries, retry_on, backoff_factor, **kwargs
        )


def test_the_official_sdk_searches_and_gets_payments_from_the_sandbox(http: httpx.Client, served: Served) -> None:
    facts = facts_of(served.world)
    entry = account_entry(served, 0, 1)
    sdk = mercadopago.SDK(entry["access_token"], http_client=SandboxHttpClient(served.credentials["base_urls"][NAME]))
    mine = facts.payments_by_account[entry["name"]]
    seen: list[dict[str, Any]] = []
    offset = 0
    while True:
        result = sdk.payment().search(
            {
                "range": "date_last_updated",
                "begin_date": "NOW-1MONTHS",
                "end_date": "NOW",
                "sort": "date_last_updated",
                "criteria": "asc",
                "offset": offset,
                "limit": 50,
            }
        )
        assert result["status"] == 200, result
        page = result["response"]
        seen += page["results"]
        offset += len(page["results"])
        if offset >= page["paging"]["total"]:
            break
    assert len(seen) == len(mine) and {r["id"] for r in seen} == {p.payment_id for p in mine}
    for row in seen:
        p = facts.payment_by_id[row["id"]]
        assert Decimal(repr(row["transaction_amount"])) == p.gross
        net = Decimal(repr(row["transaction_details"]["net_received_amount"]))
        assert net == p.net
    one = sdk.payment().get(seen[0]["id"])
    assert one["status"] == 200 and one["response"] == seen[0]
    missing = sdk.payment().get(1)
    assert missing["status"] == 404 and missing["response"]["message"] == "Payment not found"
    refused = mercadopago.SDK("APP_USR-0", http_client=SandboxHttpClient(served.credentials["base_urls"][NAME]))
    with pytest.raises(MPAuthenticationError, match="invalid access token"):
        refused.payment().get(seen[0]["id"]).raise_for_status()
    log = http.get("/_sandbox/requests", params={"provider": NAME, "path_prefix": SEARCH, "limit": 1}).json()
    assert log[-1]["status"] == 200
