"""PushinPay's client and provider against the served sandbox over real sockets: the world's facts, exactly.

PushinPay has no list endpoint, no date filter, no payout and no statement endpoint (reference
§5.1): a transaction is known to the warehouse only once its notification arrived, and a sync
re-reads by id (`GET /api/transactions/{id}`) the ids `ingestion.sync.known_ids` picks. So every
whole sync here starts the way production does: the account's webhook deliveries (what the sandbox
says PushinPay sent) land through `ingestion.webhook_landing.land`, each received when PushinPay
sent it, then `ingestion.sync.run_sync` runs over the world's days.

What the world says must land, and nothing else: every charge PushinPay notified by the world's
end (every payment of the world but the ones still `created`, which PushinPay never notifies) is
re-read once and lands with the status, value and split rules PushinPay shows at the world's end,
money compared as Decimals to the world's facts. The world's payouts (PushinPay's daily sweeps)
have no PushinPay endpoint: they reach the warehouse only as bank credits (Pluggy), so nothing of
them lands from PushinPay. The charges still `created` at the world's end are in the world's ground
truth (`PENDING`, `awaiting_payment`) but nothing PushinPay serves or sends names them, so no sync
can land them: a gap between the truth and what the warehouse can know, reported, not bent here.

Error answers are the sandbox's own (an unknown id answers 404 `[]`, a bad token 401) or injected
through its control surface (`sandbox/core/control.py`), so what is exercised is the client's
reading of the wire, not a stand-in's.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from contextlib import closing
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from ingestion.sync import run_sync
from ingestion.vault import Keyring, new_key_spec
from plugins.providers.base import Interval
from plugins.providers.errors import (
    AuthenticationError,
    NotLinkedError,
    ProviderError,
    RequestRejectedError,
    ResponseShapeError,
)
from plugins.providers.pushinpay.client import BearerToken, PushinPayClient
from plugins.providers.pushinpay.provider import PushinPayProvider
from plugins.providers.transport import RetryPolicy, TransportOptions
from sandbox.providers.pushinpay.records import PixCharge

from ..served_clients import FIRST, LAST, Sleeps, clear_requests, inject, requests_log, serve_world, without_faults
from .served import add_integration, facts_of, land_deliveries, sent_to

KEYRING = Keyring.parse(new_key_spec("pushinpay-served"))
WORLD_DAYS = Interval.for_dates(FIRST, LAST)
TRANSACTIONS = "/api/transactions/"
HTML = "<html><body><h1>404 Not Found</h1>nginx</body></html>"


@pytest.fixture(scope="module")
def sandbox():
    yield from serve_world()


@pytest.fixture(autouse=True)
def no_faults(sandbox):
    yield from without_faults(sandbox[0])


def accounts(sandbox) -> list[dict]:
    return sandbox[2]["pushinpay"]["accounts"]


def notified(sandbox, account: dict) -> dict[str, PixCharge]:
    """The account's charges PushinPay notified by the world's end (all but the ones still `created`), by id."""
    facts = facts_of(sandbox[3])
    return {c.id: c for c in facts.charges_by_account[account["name"]] if c.state_at(facts.world_end)[0] != "created"}


def transaction_gets(base_url: str) -> list[str]:
    """The ids of every `GET /api/transactions/{id}` the sandbox served since the log was cleared."""
    prefix = "/pushinpay" + TRANSACTIONS
    return [e["path"].removeprefix(prefix) for e in requests_log(base_url) if e["path"].startswith(prefix)]


def synced(url: str, integration_id: int, interval: Interval = WORLD_DAYS, **transport):
    return run_sync(
        url, integration_id, interval, keyring=KEYRING, transport=TransportOptions(sleep=Sleeps(), **transport)
    )


def api_rows(url: str) -> dict[str, tuple[str, dict]]:
    """The transactions a sync landed (source 'api'), by external id: (status key, payload)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select external_id, status, payload from raw.pushinpay_transactions where source = 'api'"
        ).fetchall()
    landed = {external_id: (status, payload) for external_id, status, payload in rows}
    assert len(landed) == len(rows), "a transaction landed twice"
    return landed


def ready(sandbox, url: str, index: int = 0, encoding: str | None = None, **integration) -> tuple[dict, int]:
    """An integration for the tenant's `index`-th account, with every delivery of it landed."""
    base_url, urls, tenant, world = sandbox
    account = accounts(sandbox)[index]
    integration_id = add_integration(url, KEYRING, tenant["tenant_id"], account, urls["pushinpay"], **integration)
    land_deliveries(url, integration_id, sent_to(world, account, encoding), keyring=KEYRING)
    clear_requests(base_url)
    return account, integration_id


# ------------------------------------------------------------------------------- whole syncs


def test_a_fresh_integration_knows_no_transaction_so_its_sync_asks_for_nothing(sandbox, clean_warehouse) -> None:
    base_url, urls, tenant, _ = sandbox
    account = accounts(sandbox)[0]
    integration_id = add_integration(clean_warehouse, KEYRING, tenant["tenant_id"], account, urls["pushinpay"])
    clear_requests(base_url)
    result = synced(clean_warehouse, integration_id)
    assert (result.rows_fetched, transaction_gets(base_url)) == (0, [])


@pytest.mark.parametrize(("index", "encoding"), [(0, "json"), (1, "form")])
def test_every_notified_transaction_is_re_read_once_and_lands_as_the_world_has_it(
    sandbox, clean_warehouse, index: int, encoding: str
) -> None:
    base_url, _, _, world = sandbox
    facts = facts_of(world)
    account, integration_id = ready(sandbox, clean_warehouse, index, encoding)
    expected = notified(sandbox, account)
    payments = {p.payment_id: p for p in facts.payments if p.integration == account["name"]}
    assert expected and set(expected) <= set(payments)
    assert {p for p, f in payments.items() if f.status != "pending"} == set(expected), "the world's notified payments"

    result = synced(clean_warehouse, integration_id)

    asked = transaction_gets(base_url)
    assert sorted(asked) == sorted(expected) and len(asked) == len(set(asked)), "one GET per known id, no other"
    assert result.rows_by_table == {"pushinpay_transactions": {"fetched": len(expected), "written": len(expected)}}
    landed = api_rows(clean_warehouse)
    assert set(landed) == set(expected)
    for charge_id, (status, payload) in landed.items():
        charge, payment = expected[charge_id], payments[charge_id]
        world_status, updated_at = charge.state_at(facts.world_end)
        assert (status, payload["status"], payload["id"].lower()) == (world_status, world_status, charge_id)
        assert Decimal(payload["value"]) / 100 == payment.gross, "value: centavos, exact to the cent"
        assert [(r["value"], r["account_id"]) for r in payload["split_rules"]] == [
            (r.value, r.account_id) for r in charge.split_rules
        ]
        assert sum((Decimal(r["value"]) for r in payload["split_rules"]), Decimal(0)) / 100 == payment.split_withheld
        assert datetime.fromisoformat(payload["updated_at"]) == updated_at.replace(
            microsecond=updated_at.microsecond // 1000 * 1000
        ), "updated_at: the latest status change, to the millisecond"
    assert Counter(s for s, _ in landed.values()) == Counter(c.state_at(facts.world_end)[0] for c in expected.values())


def test_a_few_days_re_read_exactly_the_transactions_first_notified_in_them(sandbox, clean_warehouse) -> None:
    """No date filter exists at PushinPay: the interval reaches it only through which ids the sync
    picks, the ones first seen (notified) inside it; the others are final and not re-read."""
    base_url, _, _, world = sandbox
    account, integration_id = ready(sandbox, clean_warehouse)
    days = Interval.for_dates(FIRST + timedelta(days=2), FIRST + timedelta(days=4))
    first_notice = {
        d.event_id.split(":")[0]: d.sent_at for d in reversed(sent_to(world, account))
    }  # reversed: the earliest delivery of each id wins
    inside = {i for i, at in first_notice.items() if days.start <= at < days.end}
    assert inside and len(inside) < len(first_notice), "a few days are a part of the world, not all of it"

    synced(clean_warehouse, integration_id, days)

    assert sorted(transaction_gets(base_url)) == sorted(inside)
    assert set(api_rows(clean_warehouse)) == inside
    for charge_id in inside:
        paid_at = notified(sandbox, account)[charge_id].paid_at
        assert paid_at is None or days.start <= paid_at < days.end


def test_a_second_sync_of_the_same_days_re_reads_them_and_lands_nothing_new(sandbox, clean_warehouse) -> None:
    base_url, *_ = sandbox
    _, integration_id = ready(sandbox, clean_warehouse)
    days = Interval.for_dates(FIRST, FIRST + timedelta(days=1))
    first = synced(clean_warehouse, integration_id, days)
    asked = transaction_gets(base_url)
    second = synced(clean_warehouse, integration_id, days)
    assert first.rows_written == first.rows_fetched > 0 and second.rows_written == 0
    assert sorted(transaction_gets(base_url)) == sorted(asked * 2)


# ---------------------------------------------------------------- credentials and accounts


def test_a_wrong_token_is_an_authentication_error_after_one_request(sandbox, clean_warehouse) -> None:
    base_url, *_ = sandbox
    _, integration_id = ready(sandbox, clean_warehouse, token="9|not-the-token")
    with pytest.raises(AuthenticationError, match=r"^pushinpay refused the credentials \(401\)") as raised:
        synced(clean_warehouse, integration_id, retry=RetryPolicy(max_retries=2))
    assert not raised.value.retryable and "not-the-token" not in str(raised.value)
    assert len(transaction_gets(base_url)) == 1, "a static token is not retried"
    assert api_rows(clean_warehouse) == {}


def test_a_mistyped_payout_document_is_not_linked_before_any_request(sandbox, clean_warehouse) -> None:
    """PushinPay's API names no account: the payout documents (the CNPJ it pays out to) never reach
    it, so a mistyped one is caught by its check digits, naming it, before anything is fetched."""
    base_url, *_ = sandbox
    right = accounts(sandbox)[0]["payout_documents"][0]
    wrong = right[:-1] + ("0" if right[-1] != "0" else "1")
    _, integration_id = ready(sandbox, clean_warehouse, payout_documents=[wrong])
    with pytest.raises(NotLinkedError) as raised:
        synced(clean_warehouse, integration_id)
    assert repr(wrong) in str(raised.value) and not raised.value.retryable
    assert transaction_gets(base_url) == [] and api_rows(clean_warehouse) == {}


def test_another_accounts_token_reaches_none_of_the_transactions_its_webhooks_named(sandbox, clean_warehouse) -> None:
    """The account a token belongs to is the one PushinPay answers for: another account's
    transaction is 404 `[]` (official "Consultar PIX": "se não encontrado é retornado um []"), the
    client's NotLinkedError naming the transaction."""
    other = accounts(sandbox)[1]["token"]
    _, integration_id = ready(sandbox, clean_warehouse, token=other)
    with pytest.raises(
        NotLinkedError, match=r"^pushinpay: transaction \S+ is not reachable with this token .*404 \[\]"
    ):
        synced(clean_warehouse, integration_id)
    assert api_rows(clean_warehouse) == {}


# ------------------------------------------------------------------ the client, answer by answer


def client(sandbox, sleeps: Sleeps | None = None, token: str | None = None) -> closing[PushinPayClient]:
    _, urls, *_ = sandbox
    return closing(
        PushinPayClient(
            token or accounts(sandbox)[0]["token"],
            base_url=urls["pushinpay"],
            options=TransportOptions(
                sleep=sleeps if sleeps is not None else Sleeps(), retry=RetryPolicy(max_retries=2)
            ),
        )
    )


def a_charge(sandbox, status: str = "paid") -> PixCharge:
    facts = facts_of(sandbox[3])
    return next(c for c in notified(sandbox, accounts(sandbox)[0]).values() if c.state_at(facts.world_end)[0] == status)


def test_the_client_reads_a_charge_in_any_case_and_keeps_pushinpays_bytes(sandbox) -> None:
    charge = a_charge(sandbox)
    with client(sandbox) as pushinpay:
        lower = pushinpay.transaction(charge.id)
        upper = pushinpay.transaction(charge.id.upper())
    assert lower == upper
    body, typed = lower
    assert typed.id == charge.id.upper() and typed.status == "paid" and json.loads(body)["value"] == str(charge.value)


def test_every_request_carries_pushinpays_three_headers_and_never_shows_the_token() -> None:
    """The headers PushinPay's docs mark required; checked on the client itself, because the
    sandbox's request log records paths, not headers (the sandbox does refuse a missing bearer)."""
    auth = BearerToken("4321|Zx9YwVu8TsRq7PoNm6LkJi5HgFe4DcBa3zYxWvU2")
    assert dict(auth.headers()) == {
        "Authorization": "Bearer 4321|Zx9YwVu8TsRq7PoNm6LkJi5HgFe4DcBa3zYxWvU2",
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    assert "Zx9" not in repr(auth)


def test_a_token_with_whitespace_is_refused_before_any_request() -> None:
    with pytest.raises(AuthenticationError, match="empty or holds whitespace") as raised:
        PushinPayClient("123|abc def")
    assert "abc" not in str(raised.value)


def test_an_unknown_transaction_is_pushinpays_404_and_not_linked(sandbox) -> None:
    with client(sandbox) as pushinpay, pytest.raises(NotLinkedError) as raised:
        pushinpay.transaction("00000000-0000-4000-8000-000000000000")
    assert raised.value.status == 404 and "404 []" in str(raised.value)


JSON_404 = [
    ({"status": 404, "body": {"error": "PIX não encontrado", "status": "not_found"}}, NotLinkedError, "PIX não"),
    ({"status": 404, "body": {"message": "Not Found"}}, NotLinkedError, "not reachable"),
    (
        {"status": 404, "raw_body": HTML, "content_type": "text/html"},
        ResponseShapeError,
        r"answered 404 with a body that is not \w+'s error envelope, so not its documented 404 \(text/html",
    ),
    ({"status": 404, "body": {}}, ResponseShapeError, "not PushinPay's error envelope"),
    ({"status": 404, "body": [1]}, ResponseShapeError, "not PushinPay's error envelope"),
    ({"status": 200, "body": []}, ResponseShapeError, "not the documented shape"),
    ({"status": 200, "body": {}}, ResponseShapeError, "missing required field `id`"),
    ({"status": 200, "raw_body": HTML, "content_type": "text/html"}, ResponseShapeError, "a text/html body"),
    ({"corrupt": {"path": "value", "value": 10.05}}, ResponseShapeError, r"`\$.value`"),
    ({"corrupt": {"path": "value", "value": "10,05"}}, ResponseShapeError, r"`\$.value`.*found '10,05'"),
    ({"corrupt": {"path": "created_at", "value": "2026-10-05 13:15:48"}}, ResponseShapeError, r"`\$.created_at`"),
    ({"corrupt": {"path": "id", "value": "t-2"}}, ResponseShapeError, "transaction 't-2' where transaction"),
    ({"truncate": "body"}, ResponseShapeError, "truncated JSON"),
    ({"status": 403, "body": {"message": "Apenas administradores"}}, AuthenticationError, r"credentials \(403\)"),
    ({"status": 422, "body": {"message": "x", "errors": {}}}, RequestRejectedError, "answered 422"),
]


@pytest.mark.parametrize(("fault", "error", "message"), JSON_404)
def test_each_answer_is_read_as_pushinpay_documents_it(sandbox, fault: dict, error: type, message: str) -> None:
    base_url, *_ = sandbox
    charge = a_charge(sandbox)
    inject(base_url, "pushinpay", TRANSACTIONS + charge.id, fault)
    clear_requests(base_url)
    with client(sandbox) as pushinpay, pytest.raises(ProviderError) as raised:
        pushinpay.transaction(charge.id)
    assert type(raised.value) is error, f"{type(raised.value).__name__}: {raised.value}"
    assert re.search(message, str(raised.value)), str(raised.value)
    assert raised.value.status == fault.get("status", 200)
    assert len(transaction_gets(base_url)) == 1, "none of these answers is worth a second query"
    assert accounts(sandbox)[0]["token"] not in str(raised.value)


def test_server_errors_are_retried_a_minute_apart_then_fail_naming_the_attempts(sandbox) -> None:
    base_url, *_ = sandbox
    charge = a_charge(sandbox)
    inject(base_url, "pushinpay", TRANSACTIONS, *[{"status": 503}] * 3)
    sleeps = Sleeps()
    with client(sandbox, sleeps) as pushinpay, pytest.raises(ProviderError, match="answered 503 after 3 attempts"):
        pushinpay.transaction(charge.id)
    assert len(sleeps) == 2 and min(sleeps) >= 60.0


def test_a_retry_waits_what_pushinpay_says_else_a_minute_then_reads_the_charge(sandbox) -> None:
    """About one query per minute per transaction is reported (third-party, UNCONFIRMED): a retry of
    the same transaction waits at least 60 s, unless PushinPay's own Retry-After says otherwise."""
    base_url, *_ = sandbox
    charge = a_charge(sandbox, "refunded")
    inject(base_url, "pushinpay", TRANSACTIONS, {"status": 429, "headers": {"Retry-After": "7"}}, {"status": 503})
    sleeps = Sleeps()
    with client(sandbox, sleeps) as pushinpay:
        body, typed = pushinpay.transaction(charge.id)
    assert sleeps[0] == 7.0 and len(sleeps) == 2 and sleeps[1] >= 60.0
    assert (typed.status, json.loads(body)["value"]) == ("refunded", str(charge.value))


def test_the_provider_checks_its_payout_documents_before_any_request(sandbox) -> None:
    base_url, urls, *_ = sandbox
    clear_requests(base_url)
    provider = PushinPayProvider(
        credentials={"token": accounts(sandbox)[0]["token"]},
        external_ids={"payout_documents": ["11222333000180"]},
        base_url=urls["pushinpay"],
        known_ids=[a_charge(sandbox).id],
    )
    with pytest.raises(NotLinkedError, match="'11222333000180' is not a valid CNPJ or CPF"):
        list(provider.sync(WORLD_DAYS))
    provider.close()
    assert transaction_gets(base_url) == []
