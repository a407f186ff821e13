"""The fake Asaas over real HTTP: auth, money to the cent, pages and their end signal, filters, the
statement and transfers, the rules' generic facts read back from the wire, rate limits, webhooks."""

from __future__ import annotations

import hmac
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from served_sandbox import TINY, FakeClock, Served

from sandbox.core.calendar import SAO_PAULO
from sandbox.core.webhooks import post
from sandbox.options import ServerOptions
from sandbox.providers.asaas.webhooks import EVENTS, HEADER, deliveries
from sandbox.server import start_in_thread
from sandbox.world import World

UA = {"User-Agent": "conciliador-tests/1.0"}
STATUS = {  # docs/payment-reconciliation-rules.md, canonical status of an Asaas `status` (deleted: failed)
    "CHARGEBACK_REQUESTED": "charged_back",
    "REFUNDED": "refunded",
    "CONFIRMED": "paid",
    "RECEIVED": "paid",
    "PENDING": "pending",
    "OVERDUE": "expired",
}


def _account(served: Served, tenant: int = 0, index: int = 0) -> dict[str, Any]:
    return served.tenant(tenant)["asaas"]["accounts"][index]


def _headers(account: dict[str, Any]) -> dict[str, str]:
    return {"access_token": account["api_key"], **UA}


def _decimal_json(reply: httpx.Response) -> Any:
    """The body with every JSON number read as the exact Decimal its digits say."""
    return json.loads(reply.content, parse_float=Decimal, parse_int=Decimal)


def _walk(http: httpx.Client, path: str, headers: dict[str, str], **params: Any) -> tuple[list[dict], list[dict]]:
    """Every item of a list, 100 per page until `hasMore` is false; and the envelopes."""
    items, envelopes, offset = [], [], 0
    while True:
        reply = http.get(f"/asaas{path}", headers=headers, params={**params, "offset": offset, "limit": 100})
        assert reply.status_code == 200, reply.text
        body = _decimal_json(reply)
        envelopes.append(body)
        items.extend(body["data"])
        if not body["hasMore"]:
            return items, envelopes
        offset += 100


def _facts(served: Served):
    return served.world.facts["asaas"]


# ------------------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "access_token_not_found"),
        ({"access_token": "not-a-key"}, 401, "invalid_access_token_format"),
        ({"access_token": "$aact_prod_000abc"}, 401, "invalid_environment"),
        ({"access_token": "$aact_hmlg_000bm9wZQ=="}, 401, "invalid_access_token"),
    ],
)
def test_bad_keys_are_refused_in_asaas_envelope(http: httpx.Client, headers: dict, status: int, code: str) -> None:
    reply = http.get("/asaas/v3/payments", headers={**headers, **UA})
    assert reply.status_code == status
    assert [e["code"] for e in reply.json()["errors"]] == [code] and reply.json()["errors"][0]["description"]


def test_user_agent_is_required_and_a_get_body_is_forbidden(http: httpx.Client, served: Served) -> None:
    key = {"access_token": _account(served)["api_key"]}
    refused = http.get("/asaas/v3/payments", headers={**key, "User-Agent": ""})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "invalid_user_agent"
    with_body = http.request("GET", "/asaas/v3/payments", headers={**key, **UA}, content=b'{"a":1}')
    assert with_body.status_code == 403
    assert http.get("/asaas/v3/payments", headers={**key, **UA}).status_code == 200


# -------------------------------------------------------------------------------- payments


def test_payments_page_to_the_end_with_exact_money(http: httpx.Client, served: Served) -> None:
    facts = _facts(served)
    for tenant in range(len(served.world.tenants)):
        for account in served.tenant(tenant)["asaas"]["accounts"]:
            items, envelopes = _walk(http, "/v3/payments", _headers(account))
            mine = facts.payments_by_account[account["name"]]
            assert len(items) == len(mine) == envelopes[0]["totalCount"]
            assert [e["hasMore"] for e in envelopes] == [True] * (len(envelopes) - 1) + [False]
            assert all(e["limit"] == 100 and e["object"] == "list" for e in envelopes)
            by_id = {p.payment_id: p for p in mine}
            assert {i["id"] for i in items} == set(by_id)
            for item in items:
                p = by_id[item["id"]]
                assert item["value"] == p.value and item["netValue"] == p.value - p.fee
                assert item["externalReference"].split(":")[:2] == [p.order.order_id, p.order.product_id]
                if p.split:
                    assert item["split"][0]["totalValue"] == p.split.fixed_value
            created = [i["dateCreated"] for i in items]
            assert created == sorted(created, reverse=True), "newest first"


def test_money_is_written_from_the_exact_decimal(http: httpx.Client, served: Served) -> None:
    account = _account(served)
    raw = http.get("/asaas/v3/payments", headers=_headers(account), params={"limit": 100}).text
    for p in _facts(served).payments_by_account[account["name"]][:50]:
        if p.payment_id in raw:
            assert f'"value":{float(p.value)!r}' in raw


def test_limits_offsets_and_the_page_past_the_end(http: httpx.Client, served: Served) -> None:
    headers = _headers(_account(served))
    over = http.get("/asaas/v3/payments", headers=headers, params={"limit": 101})
    assert over.status_code == 400 and over.json()["errors"][0]["code"] == "invalid_limit"
    assert http.get("/asaas/v3/payments", headers=headers, params={"offset": -1}).status_code == 400
    assert http.get("/asaas/v3/payments", headers=headers, params={"limit": "x"}).status_code == 400
    first = http.get("/asaas/v3/payments", headers=headers).json()
    assert first["limit"] == 10 and first["offset"] == 0 and len(first["data"]) == 10
    past = http.get("/asaas/v3/payments", headers=headers, params={"offset": 10_000}).json()
    assert past["data"] == [] and past["hasMore"] is False and past["totalCount"] == first["totalCount"]


def test_date_and_field_filters(http: httpx.Client, served: Served) -> None:
    account = _account(served)
    headers = _headers(account)
    everything, _ = _walk(http, "/v3/payments", headers)
    days = sorted({i["dateCreated"] for i in everything})
    low, high = days[1], days[3]
    ranged, _ = _walk(http, "/v3/payments", headers, **{"dateCreated[ge]": low, "dateCreated[le]": high})
    assert {i["id"] for i in ranged} == {i["id"] for i in everything if low <= i["dateCreated"] <= high}
    credit_days = sorted({i["estimatedCreditDate"] for i in everything if i["estimatedCreditDate"]})
    day = credit_days[len(credit_days) // 2]
    estimated, _ = _walk(http, "/v3/payments", headers, **{"estimatedCreditDate[le]": day})
    assert {i["id"] for i in estimated} == {
        i["id"] for i in everything if i["estimatedCreditDate"] and i["estimatedCreditDate"] <= day
    }
    paid_days = sorted({i["paymentDate"] for i in everything if i["paymentDate"]})
    paid, _ = _walk(http, "/v3/payments", headers, **{"paymentDate[ge]": paid_days[-1]})
    assert paid and {i["paymentDate"] for i in paid} == {paid_days[-1]}
    for field, value in (("status", "RECEIVED"), ("billingType", "PIX")):
        chosen, _ = _walk(http, "/v3/payments", headers, **{field: value})
        assert {i["id"] for i in chosen} == {i["id"] for i in everything if i[field] == value}
    plan = next(i["installment"] for i in everything if i["installment"])
    installments, _ = _walk(http, "/v3/payments", headers, installment=plan)
    assert sorted(i["installmentNumber"] for i in installments) == list(range(1, len(installments) + 1))
    reference = everything[0]["externalReference"]
    assert [i["id"] for i in _walk(http, "/v3/payments", headers, externalReference=reference)[0]] == [
        i["id"] for i in everything if i["externalReference"] == reference
    ]
    bad = http.get("/asaas/v3/payments", headers=headers, params={"dateCreated[ge]": "01/10/2026"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "invalid_date"
    assert http.get("/asaas/v3/payments", headers=headers, params={"status": "PAID"}).status_code == 400


def test_one_payment_by_id_and_another_accounts_is_not_found(http: httpx.Client, served: Served) -> None:
    mine, theirs = _account(served, 0, 0), _account(served, 1, 0)
    first = http.get("/asaas/v3/payments", headers=_headers(mine)).json()["data"][0]
    assert http.get(f"/asaas/v3/payments/{first['id']}", headers=_headers(mine)).json() == first
    other = http.get(f"/asaas/v3/payments/{first['id']}", headers=_headers(theirs))
    assert other.status_code == 404 and other.json()["errors"][0]["code"] == "not_found"


# ------------------------------------------------------------------- statement and transfers


def test_the_account_behind_a_key_is_its_stores_company(http: httpx.Client, served: Served) -> None:
    """`GET /v3/myAccount/commercialInfo/` (official SDK `AccountInfoService.retrieveBusinessData`)."""
    for tenant in range(len(served.world.tenants)):
        for account in served.tenant(tenant)["asaas"]["accounts"]:
            reply = http.get("/asaas/v3/myAccount/commercialInfo/", headers=_headers(account))
            assert reply.status_code == 200, reply.text
            info = reply.json()
            store = _facts(served).account_by_key[account["api_key"]].store
            assert info["cpfCnpj"] == store.cnpj_digits and [info["cpfCnpj"]] == [
                "".join(c for c in d if c.isdigit()) for d in account["payout_documents"]
            ]
            assert (info["personType"], info["status"], info["companyName"]) == (
                "JURIDICA",
                "APPROVED",
                store.legal_name,
            )
    assert http.get("/asaas/v3/myAccount/commercialInfo/", headers=UA).status_code == 401


def test_statement_and_transfers_filters_order_and_balances(http: httpx.Client, served: Served) -> None:
    account = _account(served, 0, 1)
    headers = _headers(account)
    items, _ = _walk(http, "/v3/financialTransactions", headers)
    assert len(items) == len(_facts(served).statements[account["name"]])
    running = Decimal("0")
    for item in items:
        running += item["value"]
        assert item["balance"] == running and item["object"] == "financialTransaction"
        assert ("transferId" in item) == (item["type"] == "TRANSFER")
        # a split's debit and its reversal name the split (the SDK's `splitId`) and the payment
        split_line = item["type"] in ("INTERNAL_TRANSFER_DEBIT", "INTERNAL_TRANSFER_REVERSAL")
        assert ("splitId" in item) == split_line and (not split_line or item["paymentId"].startswith("pay_"))
    newest_first, _ = _walk(http, "/v3/financialTransactions", headers, order="desc")
    assert [i["id"] for i in newest_first] == [i["id"] for i in reversed(items)]
    day = items[len(items) // 2]["date"]
    one_day, _ = _walk(http, "/v3/financialTransactions", headers, startDate=day, finishDate=day)
    assert [i["id"] for i in one_day] == [i["id"] for i in items if i["date"] == day]
    transfers, _ = _walk(http, "/v3/transfers", headers)
    assert {i["transferId"] for i in items if i["type"] == "TRANSFER"} == {t["id"] for t in transfers}
    for t in transfers:
        assert t["netValue"] == t["value"] - t["transferFee"] and t["status"] in ("DONE", "PENDING")
        assert (t["effectiveDate"] is None) == (t["status"] == "PENDING")
    done_days = sorted(t["effectiveDate"] for t in transfers if t["effectiveDate"])
    chosen, _ = _walk(
        http, "/v3/transfers", headers, **{"transferDate[ge]": done_days[1], "transferDate[le]": done_days[2]}
    )
    assert {t["id"] for t in chosen} == {
        t["id"] for t in transfers if t["effectiveDate"] and done_days[1] <= t["effectiveDate"] <= done_days[2]
    }


def test_the_generic_facts_are_read_from_the_wire_as_the_rules_say(http: httpx.Client, served: Served) -> None:
    """Every PaymentFacts / PayoutFacts field, recomputed from what the API serves (rules doc, Asaas columns)."""
    facts = _facts(served)
    generic = {p.payment_id: p for p in facts.payments}
    payouts = {x.payout_id: x for x in facts.payouts}
    for tenant in range(len(served.world.tenants)):
        for account in served.tenant(tenant)["asaas"]["accounts"]:
            headers = _headers(account)
            payments, _ = _walk(http, "/v3/payments", headers)
            statement, _ = _walk(http, "/v3/financialTransactions", headers)
            transfers, _ = _walk(http, "/v3/transfers", headers)
            payout_of: dict[str, str] = {}
            waiting: list[str] = []
            for item in statement:  # the first TRANSFER after the payment's credit item
                if item["type"] == "PAYMENT_RECEIVED":
                    waiting.append(item["paymentId"])
                elif item["type"] == "TRANSFER":
                    payout_of.update(dict.fromkeys(waiting, item["transferId"]))
                    waiting = []
            plans: dict[str, int] = {}
            for item in payments:
                if item["installment"]:
                    plans[item["installment"]] = plans.get(item["installment"], 0) + 1
            for item in payments:
                g = generic[item["id"]]
                assert g.status == ("failed" if item["deleted"] else STATUS[item["status"]])
                assert g.gross == item["value"] and g.fee == item["value"] - item["netValue"]
                assert g.split_withheld == sum((s["totalValue"] for s in item.get("split") or ()), Decimal(0))
                assert g.net == item["netValue"] - g.split_withheld
                paid = item["confirmedDate"] or item["paymentDate"]
                assert (g.paid_at.astimezone(SAO_PAULO).date().isoformat() if g.paid_at else None) == paid
                release = g.expected_release.isoformat() if g.expected_release else None
                assert release == item["estimatedCreditDate"]
                refunded = item["refunds"][0]["dateCreated"] if item["refunds"] else None
                assert (
                    g.refunded_at.astimezone(SAO_PAULO).strftime("%Y-%m-%d %H:%M:%S") if g.refunded_at else None
                ) == (refunded)
                assert g.payout_id == payout_of.get(item["id"])
                assert g.installments == plans.get(item["installment"], 1)
                order_id, product_id, *affiliate = item["externalReference"].split(":")
                assert (g.order.order_id, g.order.product_id) == (order_id, product_id)
                assert g.order.affiliate_id == (affiliate[0] if affiliate else None)
                assert g.method == {"PIX": "pix", "CREDIT_CARD": "card", "BOLETO": "boleto"}[item["billingType"]]
            for t in transfers:
                x = payouts[t["id"]]
                assert x.amount == t["netValue"] and x.date.isoformat() == (t["effectiveDate"] or t["scheduleDate"])


# ------------------------------------------------------------------------------ rate limits


@pytest.fixture(scope="module")
def limited_asaas():
    clock = FakeClock()
    world = World(TINY)
    options = ServerOptions(rate_limit_window_s=1.5).with_platform("asaas", rate_limit=2, quota=5)
    base_url, stop = start_in_thread(world, port=0, options=options, clock=clock)
    yield base_url, world, clock
    stop()


def test_rate_limit_and_quota_answer_429_with_asaas_headers(limited_asaas) -> None:
    base_url, world, clock = limited_asaas
    account = world.facts["asaas"].accounts[0]
    headers = {"access_token": account.api_key, **UA}
    with httpx.Client(base_url=base_url) as http:
        codes = [http.get("/asaas/v3/payments", headers=headers).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        refused = http.get("/asaas/v3/payments", headers=headers)
        assert refused.json()["errors"][0]["code"] == "too_many_requests"
        assert refused.headers["RateLimit-Limit"] == "2" and refused.headers["RateLimit-Remaining"] == "0"
        assert int(refused.headers["RateLimit-Reset"]) >= 1 and refused.headers["Retry-After"]
        clock.advance(2)
        assert http.get("/asaas/v3/transfers", headers=headers).status_code == 200
        quota = http.get("/asaas/v3/financialTransactions", headers=headers)  # the 6th request in 12 hours
        assert quota.status_code == 429 and quota.headers["RateLimit-Limit"] == "5"


# --------------------------------------------------------------------------------- webhooks


def test_webhooks_carry_the_token_and_the_payment_as_it_was(http: httpx.Client, served: Served) -> None:
    account = _account(served)
    facts = _facts(served)
    now = datetime.combine(served.world.as_of, datetime.min.time(), SAO_PAULO) + timedelta(days=1)
    sent = deliveries(facts, account, now=now)
    assert sent and sent == deliveries(facts, account["name"], now=now), "stable ids and bodies"
    assert len({d.event_id for d in sent}) == len(sent)
    last: dict[str, dict] = {}
    for d in sent:
        assert hmac.compare_digest(d.headers[HEADER], account["webhook_secret"])
        assert not hmac.compare_digest(d.headers[HEADER], _account(served, 0, 1)["webhook_secret"])
        body = json.loads(d.body)
        assert body["event"] == d.event_type in EVENTS and body["id"] == d.event_id
        assert body["id"].startswith("evt_") and "&" in body["id"]
        datetime.strptime(body["dateCreated"], "%Y-%m-%d %H:%M:%S")
        last[body["payment"]["id"]] = body["payment"]
    served_now, _ = _walk(http, "/v3/payments", _headers(account))
    for item in served_now:  # the last notification shows what the API shows at the as-of
        assert json.loads(json.dumps(last[item["id"]]), parse_float=Decimal, parse_int=Decimal) == item
    kinds = {d.event_type for d in sent}
    assert {"PAYMENT_CREATED", "PAYMENT_RECEIVED"} <= kinds
    earlier = deliveries(facts, account, now=now - timedelta(days=5))
    assert [d.event_id for d in earlier] == [d.event_id for d in sent[: len(earlier)]]

    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        ok = hmac.compare_digest(request.headers.get(HEADER, ""), account["webhook_secret"])
        return httpx.Response(200 if ok else 401)

    with httpx.Client(transport=httpx.MockTransport(receiver)) as client:
        assert post(client, "http://receiver/asaas", sent[0]).status_code == 200
    assert seen[0].content == sent[0].body and seen[0].method == "POST"
