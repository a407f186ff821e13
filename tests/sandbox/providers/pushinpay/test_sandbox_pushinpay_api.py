"""The fake PushinPay over real HTTP: PushinPay's wire format, exact money, auth, errors, limits,
and every generic payment fact readable from the wire the way docs/payment-reconciliation-rules.md
says (PushinPay column).

PushinPay has no list endpoint, so there is no page, end signal or date filter to test: charges are
known by webhook and read one by one (`GET /api/transactions/{id}`); the tests read every charge of
the world that way and compare the totals.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from served_sandbox import TINY, FakeClock, Served

from sandbox.core.calendar import SAO_PAULO, add_business_days
from sandbox.core.money import q
from sandbox.options import ServerOptions
from sandbox.server import start_in_thread
from sandbox.world import World

PP = "/pushinpay"
READ_KEYS = [
    "id",
    "status",
    "value",
    "description",
    "payment_type",
    "created_at",
    "updated_at",
    "webhook_url",
    "split_rules",
    "fee",
    "total",
    "end_to_end_id",
    "payer_name",
    "payer_national_registration",
    "webhook",
    "emails",
    "pix_details",
    "transaction_product",
]
CREATE_KEYS = [
    "id",
    "qr_code",
    "status",
    "value",
    "webhook_url",
    "qr_code_base64",
    "webhook",
    "split_rules",
    "end_to_end_id",
    "payer_name",
    "payer_national_registration",
]
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}000Z$")
CANONICAL = {"created": "pending", "paid": "paid", "refunded": "refunded", "canceled": "expired", "expired": "expired"}


def _accounts(served: Served) -> list[dict]:
    return [a for t in served.credentials["tenants"] for a in t["pushinpay"]["accounts"]]


def _bearer(account: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['token']}", "Accept": "application/json"}


def _stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def wire(served: Served) -> dict[str, dict]:
    """Every charge of the world as `GET /api/transactions/{id}` answers it (keyed by lower-case id)."""
    facts = served.world.facts["pushinpay"]
    answers = {}
    with httpx.Client(base_url=served.base_url, timeout=30) as client:
        for account in _accounts(served):
            for charge in facts.charges_by_account[account["name"]]:
                reply = client.get(f"{PP}/api/transactions/{charge.id}", headers=_bearer(account))
                assert reply.status_code == 200, reply.text
                assert reply.headers["content-type"] == "application/json"
                answers[charge.id] = reply.json()
    assert len(answers) == len(facts.charges) > 100
    return answers


def test_a_transaction_is_served_in_pushinpays_read_shape(wire: dict[str, dict], served: Served) -> None:
    facts = served.world.facts["pushinpay"]
    for charge in facts.charges:
        body = wire[charge.id]
        assert list(body) == READ_KEYS
        assert body["id"] == charge.id.upper() and re.fullmatch(r"[0-9A-F-]{36}", body["id"])
        assert body["value"] == str(charge.value) and body["value"].isdigit(), "centavos as digits, exactly"
        assert (body["description"], body["payment_type"], body["fee"], body["total"]) == (
            "Pagamento PIX",
            "pix",
            None,
            None,
        )
        assert STAMP.match(body["created_at"]) and STAMP.match(body["updated_at"])
        assert _stamp(body["created_at"]) == charge.created_at
        assert body["split_rules"] == [{"value": r.value, "account_id": r.account_id} for r in charge.split_rules]
        assert all(isinstance(r["value"], int) for r in body["split_rules"])
        details = body["pix_details"]
        assert list(details) == ["id", "expiration_date", "emv", "created_at", "updated_at"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}", details["expiration_date"])
        assert details["emv"].startswith("000201") and "br.gov.bcb.pix" in details["emv"]
        assert "PUSHIN_PAY_LTDA" in details["emv"] and re.fullmatch(r"[0-9A-F]{4}", details["emv"][-4:])
        paid = body["status"] in ("paid", "refunded")
        assert (body["end_to_end_id"] is not None) == paid == (body["payer_name"] is not None)
        if paid:
            assert re.fullmatch(r"E\d{8}\d{12}[0-9A-Z]{11}", body["end_to_end_id"])
            assert re.fullmatch(r"\d{3}\*{6}\d{2}", body["payer_national_registration"])


def test_every_generic_payment_fact_is_readable_from_the_wire(wire: dict[str, dict], served: Served) -> None:
    """The rules' PushinPay column, applied to the wire, gives back every PaymentFacts field."""
    facts = served.world.facts["pushinpay"]
    contracts = facts.contract_rows()["fee_schedules"]
    first_seen = {c.id: dict((s, at) for at, s in reversed(c.changes())) for c in facts.charges}
    payouts: dict[str, Decimal] = defaultdict(Decimal)
    for payment in facts.payments:
        body = wire[payment.payment_id]
        query = parse_qs(urlsplit(body["webhook_url"]).query)
        assert query["order"] == [payment.order.order_id] and query["product"] == [payment.order.product_id]
        assert query.get("affiliate", [None]) == [payment.order.affiliate_id]
        assert payment.status == CANONICAL[body["status"]]
        gross = Decimal(int(body["value"])).scaleb(-2)
        split = Decimal(sum(r["value"] for r in body["split_rules"])).scaleb(-2)
        assert (payment.gross, payment.split_withheld) == (gross, split)
        assert payment.method == "pix" and payment.installments == 1
        if payment.status in ("paid", "refunded"):
            # paid_at: when `paid` was first seen (the notification's time; `updated_at` while still paid)
            paid_at = first_seen[payment.payment_id]["paid"]
            assert payment.paid_at == paid_at
            if payment.status == "paid":
                assert _stamp(body["updated_at"]) == paid_at
            else:
                assert _stamp(body["updated_at"]) == payment.refunded_at
            day = paid_at.astimezone(SAO_PAULO).date()
            (row,) = [
                r
                for r in contracts
                if r["tenant_id"] == payment.tenant_id
                and r["method"] == "pix"
                and r["valid_from"] <= day.isoformat()
                and (r["valid_to"] is None or day.isoformat() <= r["valid_to"])
            ]
            fee = q(gross * Decimal(row["percent_fee"]) / 100 + Decimal(row["fixed_fee"]))
            release = add_business_days(day, row["release_days"])
            assert (payment.fee, payment.expected_release) == (fee, release)
            assert payment.net == gross - fee - split
            if payment.status == "paid" and release < facts.as_of:
                assert payment.payout_id == f"pushinpay:{payment.integration}:{release.isoformat()}"
                payouts[payment.payout_id] += payment.net
            else:
                assert payment.payout_id is None
        else:
            assert payment.paid_at is None and payment.payout_id is None and payment.fee == 0
    assert {p.payout_id: p.amount for p in facts.payouts} == dict(payouts), "A = Σ net of the day's released charges"


def test_totals_over_the_wire_match_the_world(wire: dict[str, dict], served: Served) -> None:
    facts = served.world.facts["pushinpay"]
    by_status: dict[str, int] = defaultdict(int)
    for body in wire.values():
        by_status[body["status"]] += int(body["value"])
    expected: dict[str, int] = defaultdict(int)
    for charge in facts.charges:
        state = charge.state_at(facts.world_end)
        assert state is not None
        expected[state[0]] += charge.value
    assert by_status == expected
    assert {"created", "paid", "refunded", "canceled"} <= set(by_status)


def test_nothing_after_the_worlds_end_is_served(wire: dict[str, dict], served: Served) -> None:
    facts = served.world.facts["pushinpay"]
    assert facts.world_end == datetime.combine(facts.as_of, datetime.min.time(), SAO_PAULO)
    for charge in facts.charges:
        body = wire[charge.id]
        assert _stamp(body["updated_at"]) <= facts.world_end
        if body["status"] == "created":
            assert charge.expires_at > facts.world_end and charge.paid_at is None


def test_ids_are_read_in_any_case(http: httpx.Client, served: Served) -> None:
    account = _accounts(served)[0]
    charge = served.world.facts["pushinpay"].charges_by_account[account["name"]][0]
    lower = http.get(f"{PP}/api/transactions/{charge.id}", headers=_bearer(account))
    upper = http.get(f"{PP}/api/transactions/{charge.id.upper()}", headers=_bearer(account))
    assert lower.status_code == upper.status_code == 200 and lower.json() == upper.json()


# ------------------------------------------------------------------------------- auth and errors


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer 1|nope", "Basic abc", "bearer 99999|" + "x" * 48])
def test_a_missing_or_unknown_token_is_laravels_401(http: httpx.Client, served: Served, header: str | None) -> None:
    charge = served.world.facts["pushinpay"].charges[0]
    headers = {"Authorization": header} if header else {}
    reply = http.get(f"{PP}/api/transactions/{charge.id}", headers=headers)
    assert reply.status_code == 401 and reply.json() == {"message": "Unauthenticated."}
    assert http.post(f"{PP}/api/pix/cashIn", json={"value": 100}, headers=headers).status_code == 401


def test_another_accounts_or_an_unknown_charge_is_a_404_with_an_empty_list(http: httpx.Client, served: Served) -> None:
    first, second = _accounts(served)[:2]
    theirs = served.world.facts["pushinpay"].charges_by_account[second["name"]][0]
    for wanted in (theirs.id, "9c29870c-9f69-4bb6-90d3-2dce9453bb45", "not-a-uuid"):
        reply = http.get(f"{PP}/api/transactions/{wanted}", headers=_bearer(first))
        assert reply.status_code == 404 and reply.content == b"[]"


def test_there_is_no_list_endpoint_and_unknown_routes_answer_laravels_json(http: httpx.Client, served: Served) -> None:
    headers = _bearer(_accounts(served)[0])
    listing = http.get(f"{PP}/api/transactions", headers=headers)
    assert listing.status_code == 404
    assert listing.json() == {"message": "The route api/transactions could not be found."}
    wrong = http.get(f"{PP}/api/pix/cashIn", headers=headers)
    assert wrong.status_code == 405 and "Supported methods: POST." in wrong.json()["message"]


def test_injected_faults_answer_in_pushinpays_envelope(http: httpx.Client, served: Served) -> None:
    spec = {"provider": "pushinpay", "path_prefix": "/api/transactions", "responses": [{"status": 503}]}
    assert http.post("/_sandbox/faults", json=spec).status_code == 201
    charge = served.world.facts["pushinpay"].charges[0]
    reply = http.get(f"{PP}/api/transactions/{charge.id}", headers=_bearer(_accounts(served)[0]))
    assert reply.status_code == 503 and reply.json() == {"message": "Fault injected by the sandbox"}


# ------------------------------------------------------------------------------- create a charge


def test_cash_in_creates_a_charge_readable_by_id(http: httpx.Client, served: Served) -> None:
    account = _accounts(served)[0]
    rules = [{"value": 150, "account_id": "9F64A5B8-47CB-4969-A85C-D380100225F9"}]
    reply = http.post(
        f"{PP}/api/pix/cashIn",
        json={"value": 1333, "webhook_url": "https://seu-site.com/hook?order=1", "split_rules": rules},
        headers=_bearer(account),
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert list(body) == CREATE_KEYS
    assert re.fullmatch(r"[0-9a-f-]{36}", body["id"]) and body["status"] == "created" and body["value"] == 1333
    assert body["qr_code_base64"].startswith("data:image/png;base64,") and body["qr_code"].startswith("000201")
    assert body["split_rules"] == rules and body["end_to_end_id"] is None
    read = http.get(f"{PP}/api/transactions/{body['id']}", headers=_bearer(account))
    assert read.status_code == 200 and list(read.json()) == READ_KEYS
    assert read.json()["id"] == body["id"].upper() and read.json()["value"] == "1333"
    assert read.json()["status"] == "created" and read.json()["pix_details"]["emv"] == body["qr_code"]
    other = http.get(f"{PP}/api/transactions/{body['id']}", headers=_bearer(_accounts(served)[1]))
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"value": 49}, "O campo value deve ser no mínimo 50."),
        ({}, "O campo value é obrigatório."),
        ({"value": 10.5}, "O campo value deve ser um número inteiro."),
        ({"value": 100, "split_rules": [{"value": 51, "account_id": "X"}]}, "não pode exceder 50%"),
    ],
)
def test_cash_in_validation_is_laravels_422(http: httpx.Client, served: Served, payload: dict, message: str) -> None:
    reply = http.post(f"{PP}/api/pix/cashIn", json=payload, headers=_bearer(_accounts(served)[0]))
    assert reply.status_code == 422
    body = reply.json()
    assert message in body["message"] and any(message in m for ms in body["errors"].values() for m in ms)
    if payload == {"value": 49}:
        assert body == {"message": message, "errors": {"value": [message]}}


# ------------------------------------------------------------------------------- rate limits


@pytest.fixture(scope="module")
def limited_pushinpay() -> Iterator[tuple[str, World, FakeClock]]:
    world = World(TINY)
    clock = FakeClock()
    options = ServerOptions(rate_limit_window_s=60).with_platform("pushinpay", rate_limit=5, transaction_rate_limit=1)
    base_url, stop = start_in_thread(world, port=0, options=options, clock=clock)
    yield base_url, world, clock
    stop()


def test_one_read_per_transaction_per_minute_when_switched_on(limited_pushinpay: tuple[str, World, FakeClock]) -> None:
    base_url, world, clock = limited_pushinpay
    facts = world.facts["pushinpay"]
    account = facts.accounts[0]
    first, second = facts.charges_by_account[account.name][:2]
    headers = {"Authorization": f"Bearer {account.token}"}
    with httpx.Client(base_url=base_url) as client:
        assert client.get(f"{PP}/api/transactions/{first.id}", headers=headers).status_code == 200
        again = client.get(f"{PP}/api/transactions/{first.id.upper()}", headers=headers)
        assert again.status_code == 429 and again.json() == {"message": "Too Many Attempts."}
        assert again.headers["x-ratelimit-limit"] == "1" and again.headers["x-ratelimit-remaining"] == "0"
        assert 1 <= int(again.headers["retry-after"]) <= 60
        assert client.get(f"{PP}/api/transactions/{second.id}", headers=headers).status_code == 200
        clock.advance(61)
        assert client.get(f"{PP}/api/transactions/{first.id}", headers=headers).status_code == 200
        clock.advance(61)
        replies = [client.get(f"{PP}/api/transactions/nope-{i}", headers=headers).status_code for i in range(6)]
        assert replies == [404] * 5 + [429], "the general limit counts every read of the endpoint"
        clock.advance(61)


def test_the_per_transaction_limit_is_off_by_default_and_listed_only_when_on() -> None:
    options = ServerOptions()
    assert options.of("pushinpay").transaction_rate_limit is None
    assert "pushinpay_transaction" not in options.rate_limits() and options.rate_limits()["pushinpay"]
    on = options.with_platform("pushinpay", transaction_rate_limit=1)
    assert on.rate_limits()["pushinpay_transaction"] == 1
    assert on.with_rate_limit(100).rate_limits()["pushinpay_transaction"] == 1
    assert set(on.with_rate_limit(0).rate_limits().values()) == {None}
    with pytest.raises(ValueError, match="transaction_rate_limit"):
        ServerOptions().with_platform("pushinpay", transaction_rate_limit=0)
