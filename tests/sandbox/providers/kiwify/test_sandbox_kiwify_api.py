"""The fake Kiwify over real HTTP: OAuth plus the account header, sales (90-day window, pages, full
details), sales by id, payouts, exact centavos, and every generic fact of
docs/payment-reconciliation-rules.md ("Sales platforms", Kiwify column) read back from the wire.

Kiwify publishes no official Python SDK (the PyPI `kiwify-userapi` package is a third-party
student-side client), so there is no official-client check.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
from served_sandbox import Served

from sandbox.core.calendar import SAO_PAULO, add_business_days

KW = "/kiwify/v1"


def _accounts(served: Served) -> list[dict]:
    return [a for t in served.credentials["tenants"] for a in t["kiwify"]["accounts"]]


def _login(client: httpx.Client, account: dict) -> dict[str, str]:
    reply = client.post(
        f"{KW}/oauth/token", data={"client_id": account["client_id"], "client_secret": account["client_secret"]}
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["expires_in"] == 345600 and body["token_type"] == "Bearer"
    return {"Authorization": f"Bearer {body['access_token']}", "x-kiwify-account-id": account["account_id"]}


def _window(served: Served) -> dict[str, str]:
    cfg = served.world.config
    return {"start_date": (cfg.start - timedelta(days=1)).isoformat(), "end_date": cfg.as_of.isoformat()}


def _all_sales(client: httpx.Client, headers: dict, **params) -> tuple[list[dict], int]:
    out, number = [], 1
    while True:
        reply = client.get(f"{KW}/sales", params={**params, "page_size": 9, "page_number": number}, headers=headers)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["pagination"]["page_number"] == number and body["pagination"]["page_size"] == 9
        out.extend(body["data"])
        if number * 9 >= body["pagination"]["count"]:
            assert len(out) == body["pagination"]["count"]
            return out, body["pagination"]["count"]
        number += 1


def test_credentials_shape(served: Served) -> None:
    for account in _accounts(served):
        assert set(account) == {
            "name",
            "client_id",
            "client_secret",
            "account_id",
            "payout_documents",
            "webhook_secret",
            "store",
        }


def test_bearer_and_account_header_are_both_required(http: httpx.Client, served: Served) -> None:
    accounts = _accounts(served)
    headers = _login(http, accounts[0])
    window = _window(served)
    assert http.get(f"{KW}/sales", params=window).status_code == 401
    wrong = {**headers, "x-kiwify-account-id": accounts[1]["account_id"]}
    reply = http.get(f"{KW}/sales", params=window, headers=wrong)
    assert reply.status_code == 401 and set(reply.json()) == {"error", "message"}
    missing = {"Authorization": headers["Authorization"]}
    assert http.get(f"{KW}/sales", params=window, headers=missing).status_code == 401
    bad = http.post(f"{KW}/oauth/token", data={"client_id": accounts[0]["client_id"], "client_secret": "x"})
    assert bad.status_code == 401


def test_window_is_required_and_at_most_90_days(http: httpx.Client, served: Served) -> None:
    headers = _login(http, _accounts(served)[0])
    assert http.get(f"{KW}/sales", headers=headers).status_code == 400
    reply = http.get(f"{KW}/sales", params={"start_date": "2026-01-01", "end_date": "2026-06-01"}, headers=headers)
    assert reply.status_code == 400 and "90 dias" in reply.json()["message"]
    assert http.get(f"{KW}/sales", params={**_window(served), "page_size": 101}, headers=headers).status_code == 400


def test_pages_end_and_count_every_sale(http: httpx.Client, served: Served) -> None:
    facts = served.world.facts["kiwify"]
    account = _accounts(served)[0]
    headers = _login(http, account)
    sales, count = _all_sales(http, headers, **_window(served))
    assert count == len(facts.sales_by_account[account["name"]])
    assert len({s["id"] for s in sales}) == count
    past = http.get(
        f"{KW}/sales", params={**_window(served), "page_size": 9, "page_number": count // 9 + 2}, headers=headers
    )
    assert past.json()["data"] == []


def test_date_filter_on_created_at(http: httpx.Client, served: Served) -> None:
    facts = served.world.facts["kiwify"]
    account = _accounts(served)[1]
    headers = _login(http, account)
    day = served.world.config.start + timedelta(days=2)
    sales, count = _all_sales(http, headers, start_date=day.isoformat(), end_date=day.isoformat())
    expected = [
        k for k in facts.sales_by_account[account["name"]] if k.sale.created_at.astimezone(SAO_PAULO).date() == day
    ]
    assert count == len(expected) and {s["id"] for s in sales} == {k.id for k in expected}


def test_generic_facts_read_back_from_the_wire(http: httpx.Client, served: Served) -> None:
    facts = served.world.facts["kiwify"]
    by_id = {p.payment_id: p for p in facts.payments}
    seen = 0
    for account in _accounts(served):
        headers = _login(http, account)
        sales, _ = _all_sales(http, headers, view_full_sale_details="true", **_window(served))
        for sale in sales:
            single = http.get(f"{KW}/sales/{sale['id']}", headers=headers).json()
            assert single == sale
            p = by_id[sale["id"]]
            seen += 1
            pay = sale["payment"]
            assert isinstance(pay["charge_amount"], int) and p.gross == Decimal(pay["charge_amount"]) / 100
            assert p.order.order_id == (sale["parent_order_id"] or sale["id"])
            assert p.order.product_id == sale["product"]["id"]
            assert p.subscription_id == sale["subscription_id"]
            affiliate = sale["affiliate_commission"]
            if p.status in ("paid", "refunded", "charged_back"):
                assert p.fee == Decimal(pay["fee"]) / 100
                assert p.stated_net == Decimal(pay["net_amount"]) / 100 == p.net
                others = [r for r in sale["revenue_partners"] if r["account_id"] != account["account_id"]]
                assert p.coproducer_commission == sum(Decimal(r["net_amount_split"]) for r in others) / 100
                assert p.affiliate_commission == (Decimal(affiliate["amount"]) / 100 if affiliate else 0)
                assert p.order.affiliate_id == (affiliate["document"] if affiliate else None)
                paid = p.paid_at.astimezone(SAO_PAULO).date()
                release = next(r.release_days for r in facts.fee_schedules if r.covers(p.method, p.installments, paid))
                assert p.expected_release == add_business_days(paid, release)
    assert seen == len(facts.payments)


def test_payouts_are_the_generic_payouts(http: httpx.Client, served: Served) -> None:
    facts = served.world.facts["kiwify"]
    for account in _accounts(served):
        headers = _login(http, account)
        reply = http.get(f"{KW}/payouts", params={"page_size": 100}, headers=headers)
        data = reply.json()["data"]
        generic = {x.payout_id: x for x in facts.payouts if x.integration == account["name"]}
        assert reply.json()["pagination"]["count"] == len(data) == len(generic)
        for item in data:
            x = generic[item["id"]]
            assert Decimal(item["amount"]) / 100 == x.amount
            from datetime import datetime

            created = datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))
            assert created.astimezone(SAO_PAULO).date() == x.date
            assert http.get(f"{KW}/payouts/{item['id']}", headers=headers).json() == item
