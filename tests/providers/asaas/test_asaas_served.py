"""The Asaas client and provider against the served sandbox: a sync lands exactly the world's facts.

The sandbox's Asaas (`sandbox/providers/asaas/`) and our client (`plugins/providers/asaas/`) were
written apart from the same facts; here they meet over a real socket. Ids and counts come from the
world (`World.facts["asaas"]`), money is compared as Decimals read from the landed bytes, and every
misbehaviour is the sandbox's own fault injection (`sandbox/core/control.py`), so nothing of either
side is replaced. The sandbox refuses a request without `access_token` (401) or `User-Agent` (400),
so every successful sync also shows both headers were sent.

These tests replace the stand-in of Asaas's API the client was first tested against; the listing
answers of the wrong shape (an empty object, a message, a list, HTML, truncated JSON, a malformed
amount) are the fault suite's (`tests/providers/test_faults.py -k asaas`).

The world is the client tests' (`served_clients.CONFIG`) with more Asaas orders, so the payments
listing of every account takes three pages of 100.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from plugins.providers.asaas.client import AsaasClient
from plugins.providers.asaas.provider import STATEMENT_TABLE, AsaasProvider
from plugins.providers.asaas.webhook import PAYMENTS_TABLE, TRANSFERS_TABLE
from plugins.providers.base import Interval, RawRecord
from plugins.providers.errors import (
    AuthenticationError,
    IncompleteExtractionError,
    NotLinkedError,
    RateLimitedError,
    RequestRejectedError,
    ResponseShapeError,
)
from plugins.providers.transport import RetryPolicy, TransportOptions
from sandbox.core.calendar import SAO_PAULO

from ..served_clients import CONFIG, Sleeps, clear_requests, inject, requests_log, serve_world, without_faults

WORLD = replace(CONFIG, asaas_orders_per_day=20)
FIRST, LAST = WORLD.start, WORLD.start + timedelta(days=WORLD.days - 1)
HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"
PASS = {"delay_s": 0.001}  # a queued response that lets the sandbox answer (the next one is the fault)


@pytest.fixture(scope="module")
def sandbox():
    yield from serve_world(WORLD)


@pytest.fixture(autouse=True)
def no_faults(sandbox):
    yield from without_faults(sandbox[0])


def account(sandbox, index: int = 0) -> dict[str, Any]:
    return sandbox[2]["asaas"]["accounts"][index]


def facts(sandbox):
    return sandbox[3].facts["asaas"]


def provider(
    sandbox, index: int = 0, *, api_key: str | None = None, documents: list[str] | None = None, sleeps=None
) -> AsaasProvider:
    acc = account(sandbox, index)
    return AsaasProvider(
        credentials={"api_key": api_key or acc["api_key"]},
        external_ids={"payout_documents": documents or acc["payout_documents"]},
        base_url=sandbox[1]["asaas"],
        transport=TransportOptions(retry=RetryPolicy(max_retries=2), sleep=sleeps if sleeps is not None else Sleeps()),
    )


def sync(sandbox, index: int = 0, interval: Interval | None = None, **kwargs: Any) -> dict[str, list[RawRecord]]:
    """One sync of the account over `interval` (the world's days), its records by table."""
    p = provider(sandbox, index, **kwargs)
    try:
        records = list(p.sync(interval or Interval.for_dates(FIRST, LAST)))
    finally:
        p.close()
    by_table: dict[str, list[RawRecord]] = {PAYMENTS_TABLE: [], STATEMENT_TABLE: [], TRANSFERS_TABLE: []}
    for record in records:
        by_table[record.table].append(record)
    return by_table


def decimals(record: RawRecord) -> dict[str, Any]:
    """The landed bytes with every JSON number read as the exact Decimal its digits say."""
    return json.loads(bytes(record.payload), parse_float=Decimal, parse_int=Decimal)


def asked(base_url: str) -> list[tuple[str, dict[str, str]]]:
    """The Asaas requests the sandbox saw, as (path under /asaas, query)."""
    return [
        (e["path"].removeprefix("/asaas"), dict(parse_qsl(e["query"])))
        for e in requests_log(base_url)
        if e["provider"] == "asaas"
    ]


def sp_day(moment: datetime) -> date:
    return moment.astimezone(SAO_PAULO).date()


# ----------------------------------------------------------------------------- clean syncs


@pytest.mark.parametrize("index", [0, 1])
def test_a_sync_of_the_worlds_days_lands_each_record_of_the_account_once(sandbox, index: int) -> None:
    f, acc = facts(sandbox), account(sandbox, index)
    name = acc["name"]
    landed = sync(sandbox, index)
    as_of = f.as_of_moment

    payments = [r.external_id for r in landed[PAYMENTS_TABLE]]
    expected = {p.payment_id: p for p in f.payments_by_account[name] if p.created_at < as_of}
    assert len(payments) == len(set(payments)) == len(expected) > 200, "three pages of payments, nothing twice"
    assert set(payments) == set(expected)
    for record in landed[PAYMENTS_TABLE]:
        assert record.keys == {"external_reference": expected[record.external_id].external_reference}

    statement = f.statements[name]
    assert [r.external_id for r in landed[STATEMENT_TABLE]] == [i.item_id for i in statement], "in statement order"
    assert [r.keys["payment_id"] for r in landed[STATEMENT_TABLE]] == [i.payment_id for i in statement]

    transfers = {t.transfer_id: t for t in f.transfers_by_account[name]}
    assert sorted(r.external_id for r in landed[TRANSFERS_TABLE]) == sorted(transfers)
    for record in landed[TRANSFERS_TABLE]:
        done = transfers[record.external_id].effective_date < f.as_of
        assert record.keys == {"status": "DONE" if done else "PENDING"}
    assert all(landed.values()), "every raw table a sync fills gets rows"


@pytest.mark.parametrize("index", [0, 1])
def test_money_lands_to_the_cent(sandbox, index: int) -> None:
    f, name = facts(sandbox), account(sandbox, index)["name"]
    landed = sync(sandbox, index)
    payments = {p.payment_id: p for p in f.payments_by_account[name]}
    generic = {g.payment_id: g for g in f.payments}
    splits = 0
    for record in landed[PAYMENTS_TABLE]:
        body, p = decimals(record), payments[record.external_id]
        assert (body["value"], body["netValue"]) == (p.value, p.net_value)
        withheld = sum((s["totalValue"] for s in body.get("split") or ()), Decimal("0"))
        assert withheld == (p.split.fixed_value if p.split else 0)
        splits += bool(p.split)
        # the rules' reading of the wire (gross = value, fee = value − netValue, split = Σ totalValue)
        g = generic[record.external_id]
        assert (body["value"], body["value"] - body["netValue"], withheld) == (g.gross, g.fee, g.split_withheld)
    assert splits, "the world's affiliates split some payments"

    items = {i.item_id: i for i in f.statements[name]}
    for record in landed[STATEMENT_TABLE]:
        body, item = decimals(record), items[record.external_id]
        assert (body["value"], body["balance"], body["type"]) == (item.value, item.balance, item.kind)
    assert sum(decimals(r)["value"] for r in landed[STATEMENT_TABLE]) == f.statements[name][-1].balance

    transfers = {t.transfer_id: t for t in f.transfers}
    for record in landed[TRANSFERS_TABLE]:
        body, t = decimals(record), transfers[record.external_id]
        assert (body["value"], body["netValue"], body["transferFee"]) == (t.value, t.net_value, t.fee)


def test_split_lines_name_their_split_and_the_payment_is_read_from_its_own_lines(sandbox) -> None:
    """The split's debit carries `splitId` (the SDK's statement field); the provider reads no payment
    because of such a line, and its payment lands anyway, named by its PAYMENT_RECEIVED line."""
    f, name = facts(sandbox), account(sandbox)["name"]
    landed = sync(sandbox)
    splits = {p.payment_id: p.split.split_id for p in f.payments_by_account[name] if p.split}
    lines = [decimals(r) for r in landed[STATEMENT_TABLE]]
    split_lines = [line for line in lines if line["type"] in ("INTERNAL_TRANSFER_DEBIT", "INTERNAL_TRANSFER_REVERSAL")]
    assert split_lines and all(line["splitId"] == splits[line["paymentId"]] for line in split_lines)
    assert all("splitId" not in line for line in lines if line not in split_lines)
    landed_payments = {r.external_id for r in landed[PAYMENTS_TABLE]}
    assert {line["paymentId"] for line in split_lines} <= landed_payments


def test_a_split_line_naming_a_payment_this_key_cannot_read_reads_nothing(sandbox) -> None:
    """A split's line may name the other account's payment (the recipient's side of a split): the
    provider lands the line and reads no payment for it; a by-id read would be a 404 here."""
    base_url, f, name = sandbox[0], facts(sandbox), account(sandbox)["name"]
    with_payment = [i for i in f.statements[name] if i.payment_id]
    nth = next(k for k, i in enumerate(with_payment) if i.split_id)
    others = f.payments_by_account[account(sandbox, 1)["name"]][0].payment_id
    inject(
        base_url, "asaas", "/v3/financialTransactions", {"corrupt": {"path": "paymentId", "value": others, "nth": nth}}
    )
    clear_requests(base_url)
    landed = sync(sandbox)
    line = next(r for r in landed[STATEMENT_TABLE] if r.external_id == with_payment[nth].item_id)
    assert line.keys == {"payment_id": others} and decimals(line)["splitId"] == with_payment[nth].split_id
    assert not [path for path, _ in asked(base_url) if path.startswith("/v3/payments/")]
    assert others not in {r.external_id for r in landed[PAYMENTS_TABLE]}


def test_a_sync_asks_the_account_then_pages_each_listing_with_the_dates(sandbox) -> None:
    base_url = sandbox[0]
    n = len(facts(sandbox).payments_by_account[account(sandbox)["name"]])
    clear_requests(base_url)
    sync(sandbox)
    dates = {"dateCreated[ge]": FIRST.isoformat(), "dateCreated[le]": LAST.isoformat()}
    statement = {"startDate": FIRST.isoformat(), "finishDate": LAST.isoformat(), "order": "asc"}
    pages = [("/v3/payments", {**dates, "offset": str(o), "limit": "100"}) for o in range(0, n, 100)]
    assert asked(base_url) == [
        ("/v3/myAccount/commercialInfo/", {}),
        *pages,
        ("/v3/financialTransactions", {**statement, "offset": "0", "limit": "100"}),
        ("/v3/financialTransactions", {**statement, "offset": "100", "limit": "100"}),
        ("/v3/transfers", {**dates, "offset": "0", "limit": "100"}),
    ], "every payment and transfer the statement names was created in the interval: nothing read by id"


def test_an_interval_of_a_few_days_lands_exactly_that_part(sandbox) -> None:
    """Created in the days, or moved money in them (named by a statement line): nothing else."""
    base_url, f, name = sandbox[0], facts(sandbox), account(sandbox)["name"]
    first, last = FIRST + timedelta(days=3), FIRST + timedelta(days=5)
    clear_requests(base_url)
    landed = sync(sandbox, interval=Interval.for_dates(first, last))

    lines = [i for i in f.statements[name] if first <= sp_day(i.at) <= last]
    created = [p.payment_id for p in f.payments_by_account[name] if first <= sp_day(p.created_at) <= last]
    named = [i.payment_id for i in lines if i.payment_id and not i.split_id]
    by_id = list(dict.fromkeys(p for p in named if p not in created))
    transfers = [t.transfer_id for t in f.transfers_by_account[name] if first <= sp_day(t.created_at) <= last]
    assert by_id, "the days credit payments created before them"

    assert [r.external_id for r in landed[STATEMENT_TABLE]] == [i.item_id for i in lines]
    assert sorted(r.external_id for r in landed[PAYMENTS_TABLE]) == sorted(created + by_id)
    assert sorted(r.external_id for r in landed[TRANSFERS_TABLE]) == sorted(transfers)
    assert {i.transfer_id for i in lines if i.transfer_id} <= set(transfers)
    assert [path for path, _ in asked(base_url) if path.startswith("/v3/payments/")] == [
        f"/v3/payments/{p}" for p in by_id
    ], "once each, in statement order"


def test_the_interval_is_read_as_its_sao_paulo_dates(sandbox) -> None:
    base_url = sandbox[0]
    clear_requests(base_url)
    # 12:00 UTC on day 3 .. 02:00 UTC on day 6 is 09:00 on day 3 .. 23:00 on day 5 in São Paulo
    day3 = FIRST + timedelta(days=3)
    start = datetime.combine(day3, datetime.min.time(), UTC) + timedelta(hours=12)
    sync(sandbox, interval=Interval(start, start + timedelta(days=2, hours=14)))
    first_pages = {path: query for path, query in asked(base_url) if query.get("offset") == "0"}
    assert first_pages["/v3/payments"]["dateCreated[ge]"] == day3.isoformat()
    assert first_pages["/v3/payments"]["dateCreated[le]"] == (day3 + timedelta(days=2)).isoformat()
    assert (
        first_pages["/v3/financialTransactions"]["startDate"],
        first_pages["/v3/financialTransactions"]["finishDate"],
    ) == (
        day3.isoformat(),
        (day3 + timedelta(days=2)).isoformat(),
    )


# ------------------------------------------------------------------- credentials and accounts


def test_a_wrong_key_is_an_authentication_error_at_once_that_never_shows_the_key(sandbox) -> None:
    base_url, real = sandbox[0], account(sandbox)["api_key"]
    wrong = "$aact_hmlg_000not-the-key"
    clear_requests(base_url)
    p = provider(sandbox, api_key=wrong)
    with pytest.raises(AuthenticationError) as raised:
        list(p.sync(Interval.for_dates(FIRST, LAST)))
    message = str(raised.value)
    assert message.startswith(
        "asaas refused the credentials (401) on GET /v3/myAccount/commercialInfo/: invalid_access_token"
    )
    assert "not-the-key" not in message and real not in message and not raised.value.retryable
    assert len(asked(base_url)) == 1, "a static key does not get better on a second try"
    assert "redacted" in repr(p.client.auth) and "not-the-key" not in repr(p.client.auth)


def test_a_key_for_the_other_environment_is_named_as_such(sandbox) -> None:
    with pytest.raises(AuthenticationError, match="invalid_environment"):
        sync(sandbox, api_key="$aact_prod_000abc")
    sandbox_key_on_prod = AsaasClient("$aact_hmlg_abc", base_url=AsaasClient.DEFAULT_BASE_URL)
    prod_key_on_sandbox = AsaasClient("$aact_prod_abc", base_url=AsaasClient.SANDBOX_BASE_URL)
    assert "sandbox key" in sandbox_key_on_prod._environment_hint()
    assert "production key" in prod_key_on_sandbox._environment_hint()
    assert AsaasClient("$aact_prod_abc")._environment_hint() == ""


def test_the_account_behind_the_key_is_the_stores_company(sandbox) -> None:
    for index, store in enumerate(s for s in sandbox[3].stores if s.tenant_id == sandbox[2]["tenant_id"]):
        client = AsaasClient(account(sandbox, index)["api_key"], base_url=sandbox[1]["asaas"])
        assert client.account_document() == store.cnpj_digits
        client.close()


def test_a_key_of_another_company_is_not_linked_naming_the_documents(sandbox) -> None:
    base_url = sandbox[0]
    own = account(sandbox)["payout_documents"][0]
    clear_requests(base_url)
    with pytest.raises(NotLinkedError) as raised:
        sync(sandbox, documents=["98765432000110"])
    digits = "".join(c for c in own if c.isdigit())
    assert "98765432000110" in str(raised.value) and f"{digits[:2]}********{digits[-4:]}" in str(raised.value)
    assert [path for path, _ in asked(base_url)] == ["/v3/myAccount/commercialInfo/"], "nothing else is read"


def test_the_other_store_of_the_tenant_is_not_this_keys_account(sandbox) -> None:
    with pytest.raises(NotLinkedError):
        sync(sandbox, 0, documents=account(sandbox, 1)["payout_documents"])


# ------------------------------------------------------------------- pages that do not add up


def _first_payment_id(sandbox) -> str:
    reply = httpx.get(
        f"{sandbox[1]['asaas']}/v3/payments",
        params={"offset": 0, "limit": 1, "dateCreated[ge]": FIRST.isoformat(), "dateCreated[le]": LAST.isoformat()},
        headers={"access_token": account(sandbox)["api_key"], "User-Agent": "conciliador-tests"},
    )
    return reply.json()["data"][0]["id"]


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (
            [{"corrupt": {"path": "totalCount", "value": 999}}] * 3,
            r"fetched 240 records, but Asaas stated a totalCount of 999",
        ),
        ([PASS, {"corrupt": {"path": "totalCount", "value": 999}}], "states totalCount 999, the first page stated 240"),
        ([PASS, {"corrupt": {"path": "data", "value": []}}], "the page at offset 100 is empty but says more follow"),
        ([PASS, {"corrupt": {"path": "offset", "value": 99}}], "asked for offset 100, the page says it starts at 99"),
        (
            [{"corrupt": {"path": "hasMore", "value": False}}],
            "fetched 100 records, but Asaas stated a totalCount of 240",
        ),
    ],
    ids=["total-not-fetched", "total-moved", "empty-page-with-more", "wrong-offset", "early-end"],
)
def test_pages_that_do_not_add_up_fail_whole(sandbox, faults: list[dict], message: str) -> None:
    assert len(facts(sandbox).payments_by_account[account(sandbox)["name"]]) == 240
    inject(sandbox[0], "asaas", "/v3/payments", *faults)
    with pytest.raises(IncompleteExtractionError, match=message):
        sync(sandbox)


def test_a_record_that_comes_twice_fails_whole(sandbox) -> None:
    first = _first_payment_id(sandbox)
    inject(sandbox[0], "asaas", "/v3/payments", PASS, {"corrupt": {"path": "id", "value": first}})
    with pytest.raises(IncompleteExtractionError, match=rf"record '{first}' came twice \(again at offset 100\)"):
        sync(sandbox)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        ({"path": "netValue", "value": None, "nth": 4}, r"Expected `decimal`, got `null` - at `\$.data\[4\].netValue`"),
        ({"path": "billingType", "value": None, "nth": 4}, r"`\$.data\[4\].billingType`.*record data\[4\], id 'pay_"),
        ({"path": "dateCreated", "value": "2000-01-01", "nth": 0}, r"record data\[0\], id 'pay_\w+', dated 2000-01-01"),
    ],
    ids=["null-amount", "null-required", "outside-the-filter"],
)
def test_a_bad_record_names_itself(sandbox, corrupt: dict, message: str) -> None:
    inject(sandbox[0], "asaas", "/v3/payments", {"corrupt": corrupt})
    with pytest.raises(ResponseShapeError, match=message):
        sync(sandbox)


# -------------------------------------------------------------------------- Asaas's refusals


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"status": 403}, "answered 403, a request Asaas refuses"),
        ({"status": 403, "raw_body": HTML, "content_type": "text/html"}, "answered 403"),
        (
            {"status": 400, "body": {"errors": [{"code": "invalid_date", "description": "Data inválida"}]}},
            "answered 400: .*invalid_date",
        ),
    ],
)
def test_a_refused_request_fails_at_once(sandbox, answer: dict, message: str) -> None:
    base_url = sandbox[0]
    inject(base_url, "asaas", "/v3/payments", answer)
    clear_requests(base_url)
    with pytest.raises(RequestRejectedError, match=message) as raised:
        sync(sandbox)
    assert not raised.value.retryable
    assert [path for path, _ in asked(base_url)].count("/v3/payments") == 1


def _a_payment_read_by_id(sandbox) -> tuple[Interval, str]:
    """An interval whose statement names a payment created before it, and that payment's id."""
    f, name = facts(sandbox), account(sandbox)["name"]
    first = last = FIRST + timedelta(days=4)
    for item in f.statements[name]:
        if sp_day(item.at) == first and item.payment_id and not item.split_id:
            payment = next(p for p in f.payments_by_account[name] if p.payment_id == item.payment_id)
            if sp_day(payment.created_at) < first:
                return Interval.for_dates(first, last), payment.payment_id
    raise AssertionError("the day credits no payment created before it")


def test_a_named_payment_asaas_does_not_serve_is_not_reachable_naming_it(sandbox) -> None:
    interval, payment_id = _a_payment_read_by_id(sandbox)
    inject(sandbox[0], "asaas", f"/v3/payments/{payment_id}", {"status": 404})  # Asaas's error envelope
    with pytest.raises(NotLinkedError, match=rf"payment {payment_id} is not reachable with these credentials"):
        sync(sandbox, interval=interval)


def test_another_accounts_payment_is_the_sandboxs_own_404(sandbox) -> None:
    other = facts(sandbox).payments_by_account[account(sandbox, 1)["name"]][0].payment_id
    client = AsaasClient(account(sandbox)["api_key"], base_url=sandbox[1]["asaas"])
    with pytest.raises(NotLinkedError, match=rf"payment {other} is not reachable .*not_found"):
        client.payment(other)
    client.close()


def test_a_404_that_is_not_asaas_answer_is_a_shape_error(sandbox) -> None:
    interval, payment_id = _a_payment_read_by_id(sandbox)
    inject(
        sandbox[0],
        "asaas",
        f"/v3/payments/{payment_id}",
        {"status": 404, "raw_body": HTML, "content_type": "text/html"},
    )
    with pytest.raises(ResponseShapeError, match=r"not Asaas's error envelope, so not its documented 404 \(text/html"):
        sync(sandbox, interval=interval)


def test_rate_limits_wait_as_asaas_says_then_give_up(sandbox) -> None:
    base_url = sandbox[0]
    headers = {"RateLimit-Limit": "360", "RateLimit-Remaining": "0", "RateLimit-Reset": "7"}
    inject(base_url, "asaas", "/v3/payments", {"status": 429, "headers": headers})
    sleeps = Sleeps()
    landed = sync(sandbox, sleeps=sleeps)
    assert len(landed[PAYMENTS_TABLE]) == 240
    assert sleeps == [7.0], "RateLimit-Reset, Asaas's header, is the wait"

    inject(base_url, "asaas", "/v3/payments", *[{"status": 429, "headers": {"Retry-After": "1"}}] * 3)
    with pytest.raises(RateLimitedError, match=r"^asaas: GET /v3/payments answered 429 after 3 attempts"):
        sync(sandbox)
