"""The fake Hotmart over real HTTP: OAuth, the sales endpoints' wire format and exact money, the default
status filter, page tokens and their end signal, date filters, auth errors, and every generic fact
of docs/payment-reconciliation-rules.md ("Sales platforms", Hotmart column) read back from the wire.

No official Hotmart SDK exists (the PyPI `hotmart-python` and `hotmart-mcp` packages are third-party
wrappers), so there is no official-client check: the tests speak HTTP as the docs describe it.
"""

from __future__ import annotations

import base64
import re
from decimal import Decimal

import httpx
import pytest
from served_sandbox import Served

from sandbox.core.calendar import SAO_PAULO, add_business_days

HM = "/hotmart"
SALES = f"{HM}/payments/api/v1/sales"
ALL_STATUSES = "APPROVED,COMPLETE,CANCELLED,EXPIRED,REFUNDED,CHARGEBACK,PROTESTED,WAITING_PAYMENT,PRINTED_BILLET,PROCESSING_TRANSACTION,OVERDUE"
MONEY = re.compile(rb'"(value|total|fixed|base)":(-?\d+\.\d\d)[,}]')


def _accounts(served: Served) -> list[dict]:
    return [a for t in served.credentials["tenants"] for a in t["hotmart"]["accounts"]]


def _login(client: httpx.Client, account: dict) -> dict[str, str]:
    reply = client.post(
        f"{HM}/security/oauth/token",
        params={
            "grant_type": "client_credentials",
            "client_id": account["client_id"],
            "client_secret": account["client_secret"],
        },
        headers={"Authorization": f"Basic {account['basic']}"},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (
        body["token_type"] == "bearer"
        and body["expires_in"] == 86400
        and set(body)
        == {
            "access_token",
            "token_type",
            "expires_in",
            "scope",
            "jti",
        }
    )
    return {"Authorization": f"Bearer {body['access_token']}"}


def _all(client: httpx.Client, path: str, headers: dict, **params) -> tuple[list[dict], list[dict]]:
    """Every item of an endpoint, page by page until `next_page_token` is absent; and the page infos."""
    items, infos, token = [], [], None
    while True:
        query = {**params, "max_results": 7, **({"page_token": token} if token else {})}
        reply = client.get(path, params=query, headers=headers)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        items.extend(body["items"])
        infos.append(body["page_info"])
        token = body["page_info"].get("next_page_token")
        if token is None:
            return items, infos


def test_credentials_shape(served: Served) -> None:
    for account in _accounts(served):
        assert set(account) == {
            "name",
            "client_id",
            "client_secret",
            "basic",
            "payout_documents",
            "webhook_secret",
            "store",
        }
        assert base64.b64decode(account["basic"]).decode() == f"{account['client_id']}:{account['client_secret']}"
        assert len(account["webhook_secret"]) == 40 and account["payout_documents"][0].isdigit()


def test_token_needs_the_basic_string_and_the_secret(http: httpx.Client, served: Served) -> None:
    account = _accounts(served)[0]
    params = {"grant_type": "client_credentials", "client_id": account["client_id"], "client_secret": "nope"}
    reply = http.post(
        f"{HM}/security/oauth/token", params=params, headers={"Authorization": f"Basic {account['basic']}"}
    )
    assert reply.status_code == 401 and reply.json()["error"] == "invalid_client"
    params["client_secret"] = account["client_secret"]
    assert http.post(f"{HM}/security/oauth/token", params=params).status_code == 401


def test_auth_failures_answer_hotmart_errors(http: httpx.Client) -> None:
    reply = http.get(f"{SALES}/history")
    assert reply.status_code == 401 and reply.json()["error"] == "unauthorized"
    reply = http.get(f"{SALES}/history", headers={"Authorization": "Bearer nope"})
    assert reply.status_code == 401 and set(reply.json()) == {"error", "error_description"}


def test_default_filter_returns_only_approved_and_complete(http: httpx.Client, served: Served) -> None:
    facts = served.world.facts["hotmart"]
    account = _accounts(served)[0]
    headers = _login(http, account)
    items, infos = _all(http, f"{SALES}/history", headers)
    statuses = {i["purchase"]["status"] for i in items}
    assert statuses <= {"APPROVED", "COMPLETE"}
    expected = [
        h for h in facts.sales_by_account[account["name"]] if h.status_at(facts.world_end) in ("APPROVED", "COMPLETE")
    ]
    assert len(items) == len(expected) == infos[0]["total_results"]
    assert "prev_page_token" not in infos[0] and all("next_page_token" in i for i in infos[:-1])
    everything, _ = _all(http, f"{SALES}/history", headers, transaction_status=ALL_STATUSES)
    assert len(everything) == len(facts.sales_by_account[account["name"]]) > len(items)


def test_date_filter_is_inclusive_on_order_date(http: httpx.Client, served: Served) -> None:
    account = _accounts(served)[1]
    headers = _login(http, account)
    everything, _ = _all(http, f"{SALES}/history", headers, transaction_status=ALL_STATUSES)
    dates = sorted(i["purchase"]["order_date"] for i in everything)
    low, high = dates[len(dates) // 4], dates[3 * len(dates) // 4]
    window, _ = _all(http, f"{SALES}/history", headers, transaction_status=ALL_STATUSES, start_date=low, end_date=high)
    assert len(window) == sum(1 for d in dates if low <= d <= high)
    bad = http.get(f"{SALES}/history", params={"start_date": "yesterday"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_parameter"


def test_item_shapes_and_money_written_with_two_decimals(http: httpx.Client, served: Served) -> None:
    headers = _login(http, _accounts(served)[0])
    reply = http.get(
        f"{SALES}/history", params={"transaction_status": ALL_STATUSES, "max_results": 50}, headers=headers
    )
    item = reply.json()["items"][0]
    assert set(item) >= {"product", "buyer", "producer", "purchase"}
    purchase = item["purchase"]
    assert set(purchase) >= {
        "transaction",
        "order_date",
        "approved_date",
        "status",
        "recurrency_number",
        "is_subscription",
        "commission_as",
        "price",
        "payment",
        "tracking",
        "warranty_expire_date",
        "offer",
        "hotmart_fee",
    }
    assert purchase["transaction"].startswith("HP") and set(purchase["price"]) == {"value", "currency_code"}
    assert set(purchase["hotmart_fee"]) == {"total", "fixed", "currency_code", "base", "percentage"}
    assert MONEY.search(reply.content) and not re.search(rb'"value":-?\d+\.\d[,}]', reply.content)


def test_generic_facts_read_back_from_the_wire(http: httpx.Client, served: Served) -> None:
    """Every PaymentFacts of the world from /history + /commissions + /price/details as the rules read them."""
    facts = served.world.facts["hotmart"]
    by_id = {p.payment_id: p for p in facts.payments}
    seen = 0
    for account in _accounts(served):
        headers = _login(http, account)
        history, _ = _all(http, f"{SALES}/history", headers, transaction_status=ALL_STATUSES)
        commissions = {
            i["transaction"]: i for i in _all(http, f"{SALES}/commissions", headers, transaction_status=ALL_STATUSES)[0]
        }
        prices = {
            i["transaction"]: i
            for i in _all(http, f"{SALES}/price/details", headers, transaction_status=ALL_STATUSES)[0]
        }
        rows = {r.tenant_id: r for r in facts.fee_schedules}
        assert rows
        for item in history:
            purchase = item["purchase"]
            p = by_id[purchase["transaction"]]
            seen += 1
            parts = {
                c["source"]: Decimal(str(c["commission"]["value"])) for c in commissions[p.payment_id]["commissions"]
            }
            affiliates = [
                c["user"]["ucode"] for c in commissions[p.payment_id]["commissions"] if c["source"] == "AFFILIATE"
            ]
            bump = purchase.get("order_bump")
            assert p.order.order_id == (bump["parent_purchase_transaction"] if bump else p.payment_id)
            assert p.order.product_id == str(item["product"]["id"])
            assert p.order.affiliate_id == (affiliates[0] if affiliates else None)
            assert p.subscription_id == (
                item["subscription"]["subscriber"]["code"] if purchase["is_subscription"] else None
            )
            assert p.installments == purchase["payment"]["installments_number"]
            assert p.method == {"CREDIT_CARD": "card", "PIX": "pix", "BILLET": "boleto"}[purchase["payment"]["type"]]
            assert p.gross == Decimal(str(prices[p.payment_id]["total"]["value"]))
            if p.status in ("paid", "refunded", "charged_back"):
                assert p.fee == Decimal(str(prices[p.payment_id]["fee"]["value"]))
                assert p.coproducer_commission == parts.get("COPRODUCER", Decimal("0"))
                assert p.affiliate_commission == parts.get("AFFILIATE", Decimal("0"))
                assert p.stated_net == parts["PRODUCER"] == p.net
                paid = p.paid_at.astimezone(SAO_PAULO)
                assert int(paid.timestamp() * 1000) == purchase["approved_date"]
                release = next(
                    r.release_days for r in facts.fee_schedules if r.covers(p.method, p.installments, paid.date())
                )
                assert p.expected_release == add_business_days(paid.date(), release)
    assert seen == len(facts.payments)


def test_unknown_page_token_is_refused(http: httpx.Client, served: Served) -> None:
    headers = _login(http, _accounts(served)[0])
    reply = http.get(f"{SALES}/history", params={"page_token": "bm9wZQ"}, headers=headers)
    assert reply.status_code == 400


@pytest.mark.parametrize("path", ["history", "commissions", "price/details"])
def test_transaction_filter_returns_any_status(http: httpx.Client, served: Served, path: str) -> None:
    facts = served.world.facts["hotmart"]
    account = _accounts(served)[0]
    h = next(
        h
        for h in facts.sales_by_account[account["name"]]
        if h.status_at(facts.world_end) not in ("APPROVED", "COMPLETE")
    )
    reply = http.get(f"{SALES}/{path}", params={"transaction": h.transaction}, headers=_login(http, account))
    items = reply.json()["items"]
    assert len(items) == 1
