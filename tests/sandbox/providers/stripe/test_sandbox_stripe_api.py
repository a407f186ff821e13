"""The fake Stripe over real HTTP: wire format and money to the cent, cursor lists and their end
signal, filters, auth, rate limit, and the world's generic facts readable from the wire as the
rules read Stripe."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from served_sandbox import TINY, FakeClock, Served
from stripe_wire_reader import auth, canonical_payments, sp_date, utc_date, walk

from sandbox.core.calendar import SAO_PAULO, is_business_day
from sandbox.core.money import to_cents
from sandbox.options import ServerOptions
from sandbox.providers.stripe.facts import StripeFacts
from sandbox.server import start_in_thread
from sandbox.world import World

RESOURCES = ("charges", "payment_intents", "refunds", "disputes", "payouts", "balance_transactions")


def _facts(served: Served) -> StripeFacts:
    facts = served.world.facts["stripe"]
    assert isinstance(facts, StripeFacts)
    return facts


def _accounts(served: Served) -> list[dict]:
    return [a for t in served.credentials["tenants"] for a in t["stripe"]["accounts"]]


def _key(served: Served, index: int = 0) -> str:
    return _accounts(served)[index]["secret_key"]


def _account_id(served: Served, index: int = 0) -> str:
    return _facts(served).account_by_key[_key(served, index)].account_id


# ------------------------------------------------------------------------------------ the money


def test_charges_carry_the_money_and_references_exactly(http: httpx.Client, served: Served) -> None:
    facts = _facts(served)
    for index in range(len(_accounts(served))):
        key = _key(served, index)
        account_id = _account_id(served, index)
        charges, pages = walk(http, "/stripe/v1/charges", key)
        expected = [c for c in facts.charges if c.account_id == account_id]
        assert sorted(c["id"] for c in charges) == sorted(c.charge_id for c in expected)
        assert pages == len(expected) // 100 + 1 if len(expected) % 100 else len(expected) // 100
        by_id = {c["id"]: c for c in charges}
        for c in expected:
            body = by_id[c.charge_id]
            assert body["object"] == "charge" and body["currency"] == "brl" and body["livemode"] is False
            assert isinstance(body["amount"], int) and body["amount"] == to_cents(c.order.gross)
            assert body["metadata"]["order_id"] == c.order.order_id
            assert body["metadata"]["product_id"] == c.order.product_id
            assert body["metadata"].get("affiliate_id") == c.order.affiliate_id
            assert ("affiliate_id" in body["metadata"]) == (c.order.affiliate_id is not None)
            details = body["payment_method_details"]
            assert details["type"] == c.order.method
            if c.order.method == "card":
                plan = details["card"]["installments"]
                if c.order.installments == 1:
                    assert plan is None
                else:
                    assert plan == {"plan": {"count": c.order.installments, "interval": "month", "type": "fixed_count"}}
                assert len(details["card"]["last4"]) == 4 and details["card"]["brand"]
            assert body["payment_intent"] == c.intent_id and body["balance_transaction"] == c.txn_id
            assert body["status"] in ("succeeded", "pending", "failed")
            assert body["paid"] is (body["status"] == "succeeded")
            assert body["refunded"] is (c.refund is not None)
            assert body["amount_refunded"] == (body["amount"] if c.refund else 0)
            assert body["disputed"] is (c.dispute is not None)
            assert body["failure_code"] == c.failure_code and (body["failure_code"] is None) == (c.status != "failed")
            assert body["application_fee_amount"] == c.application_fee_amount


def test_balance_transactions_state_fee_and_net_exactly(http: httpx.Client, served: Served) -> None:
    key = _key(served)
    txns, _ = walk(http, "/stripe/v1/balance_transactions", key)
    facts = _facts(served)
    kinds = Counter(t["type"] for t in txns)
    assert {"charge", "payout"} <= set(kinds) <= {"charge", "refund", "adjustment", "payout"}
    for t in txns:
        record = facts.txn_by_id[t["id"]]
        assert t["object"] == "balance_transaction" and t["currency"] == "brl"
        assert t["amount"] == record.amount and t["fee"] == sum(d["amount"] for d in t["fee_details"])
        assert t["net"] == t["amount"] - t["fee"]
        if t["type"] == "charge":
            assert [d["type"] for d in t["fee_details"]] == ["application_fee", "stripe_fee"]
            assert t["fee_details"][0]["application"].startswith("ca_") and t["reporting_category"] == "charge"
            charge = facts.charge_by_id[t["source"]]
            assert t["fee_details"][0]["amount"] == record.fee_of("application_fee")
            assert charge.txn_id == t["id"] and t["amount"] == charge.amount
        elif t["type"] == "refund":
            assert t["amount"] < 0 and t["fee"] == 0 and t["reporting_category"] == "refund"
        elif t["type"] == "payout":
            assert t["amount"] < 0 and t["fee"] == 0 and t["description"] == "STRIPE PAYOUT"
        # dates: midnight UTC of the date
        moment = datetime.fromtimestamp(t["available_on"], UTC)
        assert moment.time() == datetime.min.time()  # midnight UTC, as Stripe writes date fields
        assert moment.date() == utc_date(t["available_on"]) == record.available_on
        assert t["status"] == ("available" if record.available_on <= served.world.as_of else "pending")


def test_payouts_sum_what_they_paid_out_and_arrive_on_business_days(http: httpx.Client, served: Served) -> None:
    facts = _facts(served)
    as_of = served.world.as_of
    for index in range(len(_accounts(served))):
        key = _key(served, index)
        payouts, _ = walk(http, "/stripe/v1/payouts", key)
        assert payouts, "every account is paid out in the small world"
        for p in payouts:
            members, _ = walk(http, "/stripe/v1/balance_transactions", key, payout=p["id"])
            own = [t for t in members if t["type"] == "payout"]
            assert [t["id"] for t in own] == [p["balance_transaction"]] and own[0]["amount"] == -p["amount"]
            assert sum(t["net"] for t in members if t["type"] != "payout") == p["amount"] > 0
            day = utc_date(p["arrival_date"])
            assert is_business_day(day) and sp_date(p["created"]) == day
            assert p["status"] == ("paid" if day < as_of else "in_transit")
            assert p["automatic"] is True and p["method"] == "standard" and p["type"] == "bank_account"
            assert set(t["id"] for t in members) == {p["balance_transaction"], *facts.payout_by_id[p["id"]].paid_txns}


def test_the_world_s_generic_facts_are_what_the_wire_says(http: httpx.Client, served: Served) -> None:
    """Every PaymentFacts / PayoutFacts, read back from the API the way the rules table reads Stripe."""
    facts = _facts(served)
    seen_payments = seen_payouts = 0
    for account in _accounts(served):
        payments, payouts = canonical_payments(http, account["secret_key"])
        mine = [p for p in facts.payments if p.integration == account["name"]]
        assert set(payments) == {p.payment_id for p in mine}
        for p in mine:
            wire = payments[p.payment_id]
            assert wire["order_id"] == p.order.order_id and wire["product_id"] == p.order.product_id
            assert wire["affiliate_id"] == p.order.affiliate_id
            assert (wire["method"], wire["installments"]) == (p.method, p.installments)
            assert wire["status"] == p.status
            assert (wire["gross"], wire["fee"], wire["split_withheld"]) == (p.gross, p.fee, p.split_withheld)
            assert wire["gross"] - wire["fee"] - wire["split_withheld"] == p.net
            if wire["stated_net"] is not None:
                assert wire["stated_net"] == p.net, "the balance transaction's net is the computed net"
            assert wire["paid_at"] == p.paid_at and wire["expected_release"] == p.expected_release
            assert wire["refunded_at"] == p.refunded_at and wire["payout_id"] == p.payout_id
            seen_payments += 1
        mine_payouts = [x for x in facts.payouts if x.integration == account["name"]]
        assert payouts == {x.payout_id: {"amount": x.amount, "date": x.date} for x in mine_payouts}
        seen_payouts += len(mine_payouts)
        assert all(x.bank_account_id == facts.account_by_name[account["name"]].store.account_id for x in mine_payouts)
    assert seen_payments == len(facts.payments) and seen_payouts == len(facts.payouts)
    statuses = Counter(p.status for p in facts.payments)
    assert {"paid", "failed", "refunded", "pending"} <= set(statuses)


def test_nothing_after_the_world_s_clock_is_served(http: httpx.Client, served: Served) -> None:
    now = _facts(served).now
    assert now == datetime.combine(served.world.as_of, datetime.min.time().replace(hour=12), SAO_PAULO)
    for resource in RESOURCES:
        rows, _ = walk(http, f"/stripe/v1/{resource}", _key(served))
        assert all(r["created"] <= now.timestamp() for r in rows), resource


def test_retrieve_each_kind_and_expand(http: httpx.Client, served: Served) -> None:
    key = _key(served)
    charges, _ = walk(http, "/stripe/v1/charges", key)
    paid = next(c for c in charges if c["status"] == "succeeded")
    got = http.get(f"/stripe/v1/charges/{paid['id']}", headers=auth(key))
    assert got.status_code == 200 and got.json() == paid
    assert got.headers["request-id"].startswith("req_")
    expanded = http.get(
        f"/stripe/v1/charges/{paid['id']}", params={"expand[]": "balance_transaction"}, headers=auth(key)
    ).json()
    assert expanded["balance_transaction"]["id"] == paid["balance_transaction"]
    intent = http.get(f"/stripe/v1/payment_intents/{paid['payment_intent']}", headers=auth(key)).json()
    assert intent["object"] == "payment_intent" and intent["status"] == "succeeded"
    assert intent["latest_charge"] == paid["id"] and intent["amount_received"] == paid["amount"]
    listed = http.get(
        "/stripe/v1/balance_transactions", params={"limit": 3, "expand[]": "data.source"}, headers=auth(key)
    ).json()
    assert all(isinstance(t["source"], dict) and t["source"]["id"] for t in listed["data"])
    for resource in RESOURCES:
        rows, _ = walk(http, f"/stripe/v1/{resource}", key)
        for row in rows[:2]:
            assert http.get(f"/stripe/v1/{resource}/{row['id']}", headers=auth(key)).json() == row
    missing = http.get("/stripe/v1/charges/ch_3nothere", headers=auth(key))
    assert missing.status_code == 404
    assert missing.json()["error"] | {"message": ""} == {
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": "",
        "param": "id",
        "type": "invalid_request_error",
    }


def test_refunds_and_disputes_point_at_their_charges(http: httpx.Client, served: Served) -> None:
    facts = _facts(served)
    found = 0
    for index in range(len(_accounts(served))):
        key = _key(served, index)
        for r in walk(http, "/stripe/v1/refunds", key)[0]:
            charge = facts.charge_by_id[r["charge"]]
            assert (
                r["amount"] == charge.amount and r["status"] == "succeeded" and r["payment_intent"] == charge.intent_id
            )
            txn = http.get(f"/stripe/v1/balance_transactions/{r['balance_transaction']}", headers=auth(key)).json()
            assert txn["amount"] == -r["amount"] and txn["type"] == "refund" and txn["source"] == r["id"]
            found += 1
        for d in walk(http, "/stripe/v1/disputes", key)[0]:
            assert d["balance_transactions"][0]["type"] == "adjustment"
            assert d["balance_transactions"][0]["amount"] == -d["amount"] and d["status"] != "won"
            found += 1
    assert found == sum(1 for c in facts.charges if c.refund or c.dispute) > 0


# ------------------------------------------------------------------------------------ lists


def test_cursor_lists_walk_both_ways_and_end_with_has_more_false(http: httpx.Client, served: Served) -> None:
    key = _key(served)
    everything, _ = walk(http, "/stripe/v1/charges", key)
    assert len(everything) > 30
    keys = [(c["created"], c["id"]) for c in everything]
    assert keys == sorted(keys, reverse=True), "newest first"
    first = http.get("/stripe/v1/charges", headers=auth(key)).json()
    assert len(first["data"]) == 10 and first["has_more"] is True, "limit defaults to 10"
    small, pages = walk(http, "/stripe/v1/charges", key, limit=7)
    assert small == everything and pages == -(-len(everything) // 7)
    last = http.get(
        "/stripe/v1/charges", params={"limit": 100, "starting_after": everything[-2]["id"]}, headers=auth(key)
    ).json()
    assert last["data"] == everything[-1:] and last["has_more"] is False
    after_last = http.get(
        "/stripe/v1/charges", params={"starting_after": everything[-1]["id"]}, headers=auth(key)
    ).json()
    assert after_last == {"object": "list", "data": [], "has_more": False, "url": "/v1/charges"}
    # backwards from the oldest: pages of the newer ones right before the cursor, newest first
    back: list[dict] = []
    cursor = everything[-1]["id"]
    while True:
        page = http.get("/stripe/v1/charges", params={"limit": 9, "ending_before": cursor}, headers=auth(key)).json()
        back = page["data"] + back
        if not page["has_more"]:
            break
        cursor = page["data"][0]["id"]
    assert back == everything[:-1]


@pytest.mark.parametrize(
    ("params", "message", "param"),
    [
        ({"limit": 0}, "Invalid limit: must be between 1 and 100", "limit"),
        ({"limit": 101}, "Invalid limit: must be between 1 and 100", "limit"),
        ({"limit": "ten"}, "Invalid integer: ten", "limit"),
        ({"created[gte]": "yesterday"}, "Invalid integer: yesterday", "created[gte]"),
        ({"colour": "blue"}, "Received unknown parameter: colour", "colour"),
        ({"created[between]": 1}, "Received unknown parameter: created[between]", "created[between]"),
        ({"starting_after": "ch_3x", "ending_before": "ch_3y"}, None, None),
    ],
)
def test_bad_list_parameters_are_400_in_stripe_s_envelope(
    http: httpx.Client, served: Served, params: dict, message: str | None, param: str | None
) -> None:
    reply = http.get("/stripe/v1/charges", params=params, headers=auth(_key(served)))
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    if message:
        assert error["message"] == message and error["param"] == param
    else:
        assert error["message"] == "You may only specify one of these parameters: ending_before, starting_after."


def test_created_filters_partition_the_list(http: httpx.Client, served: Served) -> None:
    key = _key(served)
    everything, _ = walk(http, "/stripe/v1/balance_transactions", key)
    middle = everything[len(everything) // 2]["created"]
    older, _ = walk(http, "/stripe/v1/balance_transactions", key, **{"created[lt]": middle})
    newer, _ = walk(http, "/stripe/v1/balance_transactions", key, **{"created[gte]": middle})
    assert newer + older == everything and older and newer
    exact, _ = walk(http, "/stripe/v1/balance_transactions", key, created=middle)
    assert exact == [t for t in everything if t["created"] == middle]
    window, _ = walk(
        http, "/stripe/v1/balance_transactions", key, **{"created[gt]": middle - 86_400, "created[lte]": middle}
    )
    assert window == [t for t in everything if middle - 86_400 < t["created"] <= middle]


def test_resource_filters(http: httpx.Client, served: Served) -> None:
    key = _key(served)
    txns, _ = walk(http, "/stripe/v1/balance_transactions", key)
    for kind in ("charge", "payout"):
        assert walk(http, "/stripe/v1/balance_transactions", key, type=kind)[0] == [
            t for t in txns if t["type"] == kind
        ]
    some = txns[3]
    assert walk(http, "/stripe/v1/balance_transactions", key, source=some["source"])[0] == [some]
    assert walk(http, "/stripe/v1/balance_transactions", key, currency="usd")[0] == []
    payouts, _ = walk(http, "/stripe/v1/payouts", key)
    day = payouts[1]["arrival_date"]
    assert walk(http, "/stripe/v1/payouts", key, arrival_date=day)[0] == [payouts[1]]
    assert walk(http, "/stripe/v1/payouts", key, **{"arrival_date[lt]": day})[0] == payouts[2:]
    assert walk(http, "/stripe/v1/payouts", key, status="paid")[0] == [p for p in payouts if p["status"] == "paid"]
    charges, _ = walk(http, "/stripe/v1/charges", key)
    assert walk(http, "/stripe/v1/charges", key, payment_intent=charges[0]["payment_intent"])[0] == charges[:1]
    unknown = http.get("/stripe/v1/balance_transactions", params={"payout": "po_1nothere"}, headers=auth(key))
    assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "payout"


# ------------------------------------------------------------------------------------ auth


def test_auth_bearer_basic_and_refusals(http: httpx.Client, served: Served) -> None:
    key = _key(served)
    basic = base64.b64encode(f"{key}:".encode()).decode()
    assert http.get("/stripe/v1/payouts", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    none = http.get("/stripe/v1/payouts")
    assert none.status_code == 401 and none.json()["error"]["type"] == "invalid_request_error"
    assert none.json()["error"]["message"].startswith("You did not provide an API key.")
    wrong = "sk_test_51NotARealKey00000000001234"
    bad = http.get("/stripe/v1/payouts", headers=auth(wrong))
    assert bad.status_code == 401
    shown = "sk_test_" + "*" * (len(wrong) - 12) + "1234"
    assert bad.json() == {"error": {"message": f"Invalid API Key provided: {shown}", "type": "invalid_request_error"}}
    other = _facts(served).charges[-1]
    assert other.account_id != _account_id(served)
    hidden = http.get(f"/stripe/v1/charges/{other.charge_id}", headers=auth(key))
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "resource_missing"
    unknown = http.get("/stripe/v1/customers", headers=auth(key))
    assert unknown.status_code == 404
    for answer in (none, bad, hidden, unknown):  # every answer names its request, refusals included
        assert answer.headers["request-id"].startswith("req_")


def test_credentials_are_one_account_per_store(served: Served) -> None:
    world = served.world
    for tenant, listed in zip(world.tenants, served.credentials["tenants"], strict=True):
        accounts = listed["stripe"]["accounts"]
        assert list(listed["stripe"]) == ["accounts"]
        assert [a["store"] for a in accounts] == [s.name for s in tenant.stores]
        for account, store in zip(accounts, tenant.stores, strict=True):
            assert list(account) == ["name", "secret_key", "payout_documents", "webhook_secret", "store"]
            assert account["payout_documents"] == [store.cnpj_digits]
            assert account["secret_key"].startswith("sk_test_51") and len(account["secret_key"]) == 107
            assert account["secret_key"].isascii() and account["secret_key"][8:].isalnum()
            assert account["webhook_secret"].startswith("whsec_") and len(account["webhook_secret"]) == 38
            assert account["name"] == account["name"].lower() and " " not in account["name"]


# ------------------------------------------------------------------------------------ rate limit


def test_rate_limit_answers_stripe_s_429_per_key_and_endpoint() -> None:
    world = World(TINY)
    clock = FakeClock()
    options = ServerOptions(rate_limit_window_s=1.5).with_platform("stripe", rate_limit=2)
    base_url, stop = start_in_thread(world, port=0, options=options, clock=clock)
    try:
        key = world.credentials(base_url)["tenants"][0]["stripe"]["accounts"][0]["secret_key"]
        with httpx.Client(base_url=base_url) as http:
            codes = [http.get("/stripe/v1/charges", headers=auth(key)).status_code for _ in range(3)]
            assert codes == [200, 200, 429]
            refused = http.get("/stripe/v1/charges", headers=auth(key))
            assert refused.headers["request-id"].startswith("req_")
            assert refused.json() == {  # no `rate_limit` code on a 429 since API version 2015-09-08
                "error": {
                    "message": "Request rate limit exceeded. Learn more about rate limits here "
                    "https://stripe.com/docs/rate-limits.",
                    "type": "invalid_request_error",
                }
            }
            assert http.get("/stripe/v1/payouts", headers=auth(key)).status_code == 200, "per endpoint"
            clock.advance(1.6)
            assert http.get("/stripe/v1/charges", headers=auth(key)).status_code == 200
    finally:
        stop()
    assert ServerOptions().rate_limits()["stripe"] == 25 * 60
    assert ServerOptions().with_rate_limit(100).rate_limits()["stripe"] == 100


def test_an_injected_fault_answers_in_stripe_s_envelope(http: httpx.Client, served: Served) -> None:
    fault = {"provider": "stripe", "path_prefix": "/v1/payouts", "responses": [{"status": 500}]}
    assert http.post("/_sandbox/faults", json=fault).status_code == 201
    reply = http.get("/stripe/v1/payouts", headers=auth(_key(served)))
    assert reply.status_code == 500 and reply.json()["error"] == {
        "message": "Fault injected by the sandbox",
        "type": "api_error",
    }
    # A 404 alone is Stripe's usual 404: an object this key cannot reach.
    fault = {"provider": "stripe", "path_prefix": "/v1/payouts", "responses": [{"status": 404}]}
    assert http.post("/_sandbox/faults", json=fault).status_code == 201
    missing = http.get("/stripe/v1/payouts", headers=auth(_key(served)))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "resource_missing"


def test_timestamps_are_unix_seconds_of_the_story(http: httpx.Client, served: Served) -> None:
    facts = _facts(served)
    charges, _ = walk(http, "/stripe/v1/charges", _key(served))
    for c in charges:
        record = facts.charge_by_id[c["id"]]
        assert c["created"] == int(record.created.timestamp())
        assert timedelta(0) < record.created - record.order.created_at <= timedelta(seconds=20)
