"""The fake Pluggy over real HTTP: every body validated by the pluggy_sdk models, auth, paging, filters."""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import httpx
import pluggy_sdk
import pytest
from pluggy_sdk.models import (
    Account,
    AccountsList200Response,
    AuthResponse,
    CursorPageResponseTransactions,
    GlobalErrorResponse,
    Item,
    NotAuthenticatedResponse,
    PageResponseTransactions,
    Transaction,
)
from pluggy_sdk_strict import strict
from served_sandbox import FakeClock, Served, pluggy_key

from sandbox.core.bank import KIND_PAYOUT, Payer, PlannedCredit, build_ledger
from sandbox.core.counterparties import Counterparty
from sandbox.core.ids import new_cnpj
from sandbox.core.tokens import TokenIssuer, derive_key
from sandbox.providers.pluggy.wire import TransactionRenderer
from sandbox.world import World

TOO_MANY = {"message": "Too many requests. Please try again later (see Retry-After header in seconds)", "code": 429}


def _account(served: Served, tenant: int = 0, store: int = 0) -> str:
    return served.tenant(tenant)["pluggy"]["account_ids"][store]


def walk_v2(http: httpx.Client, headers: dict, params: dict) -> tuple[list[dict], int]:
    """Every transaction of a v2 listing, following `next` exactly as the SDKs do."""
    rows, pages = [], 0
    reply = http.get("/pluggy/v2/transactions", params=params, headers=headers)
    while True:
        assert reply.status_code == 200, reply.text
        body = reply.json()
        strict(CursorPageResponseTransactions, body)
        rows += body["results"]
        pages += 1
        if body["next"] is None:
            return rows, pages
        assert body["next"].startswith("?") and "after=" in body["next"]
        reply = http.get("/pluggy/v2/transactions" + body["next"], headers=headers)


# ------------------------------------------------------------------------------------ auth


def test_auth_issues_a_two_hour_jwt(http: httpx.Client, served: Served) -> None:
    creds = served.tenant()["pluggy"]
    reply = http.post(
        "/pluggy/auth",
        json={"clientId": creds["client_id"], "clientSecret": creds["client_secret"], "nonExpiring": False},
    )
    assert reply.status_code == 200
    key = strict(AuthResponse, reply.json()).api_key
    header, payload, _ = key.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert json.loads(base64.urlsafe_b64decode(header + "==="))["alg"] == "HS256"
    assert abs(claims["exp"] - (time.time() + 7200)) < 60


@pytest.mark.parametrize(
    "body",
    [
        {"clientId": "00000000-0000-4000-8000-000000000000", "clientSecret": "nope"},
        "right-id-wrong-secret",
    ],
)
def test_auth_refuses_bad_keys_with_pluggys_401(http: httpx.Client, served: Served, body) -> None:
    if body == "right-id-wrong-secret":
        body = {"clientId": served.tenant()["pluggy"]["client_id"], "clientSecret": "wrong"}
    reply = http.post("/pluggy/auth", json=body)
    assert reply.status_code == 401
    assert reply.json() == {
        "code": 401,
        "codeDescription": "CLIENT_KEYS_UNAUTHORIZED",
        "message": "Client keys are invalid",
    }
    strict(GlobalErrorResponse, reply.json())


def test_auth_without_fields_is_a_400(http: httpx.Client) -> None:
    reply = http.post("/pluggy/auth", json={"clientId": ""})
    assert reply.status_code == 400
    strict(GlobalErrorResponse, reply.json())


def test_endpoints_need_a_valid_unexpired_key(http: httpx.Client, served: Served) -> None:
    item_id = served.tenant()["pluggy"]["item_ids"][0]
    seed = served.world.config.seed
    expired = TokenIssuer(
        derive_key(seed, "pluggy"), issuer="conciliador-sandbox/pluggy", clock=lambda: time.time() - 3 * 3600
    ).issue(served.tenant()["pluggy"]["client_id"], 7200)
    forged = TokenIssuer(b"not the sandbox key", issuer="conciliador-sandbox/pluggy").issue("x", 7200)
    for headers in (
        {},
        {"X-API-KEY": "garbage"},
        {"X-API-KEY": expired},
        {"X-API-KEY": forged},
        {"Authorization": "Bearer " + pluggy_key(http, served)["X-API-KEY"]},
    ):
        reply = http.get(f"/pluggy/items/{item_id}", headers=headers)
        assert reply.status_code == 403, headers
        body = reply.json()
        assert body["code"] == 403 and body["message"]
        strict(NotAuthenticatedResponse, body)


def test_a_tenants_key_sees_only_its_own_resources(http: httpx.Client, served: Served) -> None:
    mine = pluggy_key(http, served, tenant=0)
    other = served.tenant(1)["pluggy"]
    assert http.get(f"/pluggy/items/{other['item_ids'][0]}", headers=mine).status_code == 404
    assert http.get("/pluggy/accounts", params={"itemId": other["item_ids"][0]}, headers=mine).status_code == 404
    assert http.get(f"/pluggy/accounts/{other['account_ids'][0]}", headers=mine).status_code == 404
    reply = http.get("/pluggy/v2/transactions", params={"accountId": other["account_ids"][0]}, headers=mine)
    assert reply.status_code == 404
    strict(GlobalErrorResponse, reply.json())
    ledger = served.world.ledgers[other["account_ids"][0]]
    assert http.get(f"/pluggy/transactions/{ledger.transaction_id(0)}", headers=mine).status_code == 404


# ------------------------------------------------------------------------------ resources


def test_item_account_list_and_account_match_the_sdk_models(http: httpx.Client, served: Served) -> None:
    headers = pluggy_key(http, served)
    tenant = served.tenant()["pluggy"]
    bank_item = served.world.facts["pluggy"].item_by_id[tenant["item_ids"][0]]

    reply = http.get(f"/pluggy/items/{bank_item.item_id}", headers=headers)
    assert reply.status_code == 200
    item = strict(Item, reply.json())
    assert (item.status, item.execution_status, item.connector.id) == ("UPDATED", "SUCCESS", bank_item.connector.id)

    reply = http.get("/pluggy/accounts", params={"itemId": bank_item.item_id}, headers=headers)
    listing = strict(AccountsList200Response, reply.json())
    assert (listing.page, listing.total, listing.total_pages) == (1, 1, 1)
    account = listing.results[0]
    assert (account.type, account.subtype, account.tax_number) == ("BANK", "CHECKING_ACCOUNT", bank_item.store.cnpj)
    assert str(account.item_id) == bank_item.item_id and account.currency_code == "BRL"
    ledger = served.world.ledgers[bank_item.account_id]
    assert account.balance == float(ledger.closing_balance) == account.bank_data.closing_balance

    reply = http.get(f"/pluggy/accounts/{bank_item.account_id}", headers=headers)
    assert strict(Account, reply.json()) == account
    assert (
        http.get("/pluggy/accounts", params={"itemId": bank_item.item_id, "type": "CREDIT"}, headers=headers).json()[
            "results"
        ]
        == []
    )


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/pluggy/accounts", {}, "itemId should not be null or undefined,itemId must be a UUID"),
        ("/pluggy/v2/transactions", {}, "accountId should not be null or undefined,accountId must be a UUID"),
        ("/pluggy/transactions", {"accountId": "not-a-uuid"}, "accountId must be a UUID"),
    ],
)
def test_missing_or_invalid_ids_are_400s_like_the_oas_example(
    http: httpx.Client, served: Served, path: str, params: dict, message: str
) -> None:
    reply = http.get(path, params=params, headers=pluggy_key(http, served))
    assert reply.status_code == 400
    assert reply.json() == {"message": message, "code": 400}


# --------------------------------------------------------------------------- transactions


def test_v2_cursor_walk_returns_every_row_once_in_date_id_order(http: httpx.Client, served: Served) -> None:
    headers = pluggy_key(http, served)
    account_id = _account(served)
    ledger = served.world.ledgers[account_id]
    rows, pages = walk_v2(http, headers, {"accountId": account_id})
    assert pages == -(-len(ledger) // 500) > 2
    ids = [r["id"] for r in rows]
    assert ids == [ledger.transaction_id(i) for i in range(len(ledger))]
    assert len(set(ids)) == len(ids)
    assert [(r["date"], r["id"]) for r in rows] == sorted((r["date"], r["id"]) for r in rows)
    for row in rows[:50]:
        txn = strict(Transaction, row)
        assert txn.status == "POSTED" and txn.currency_code == "BRL" and str(txn.account_id) == account_id
        assert (txn.amount > 0) == (txn.type == "CREDIT")
        assert row["date"].endswith("T00:00:00.000Z") and row["createdAt"].endswith("Z")
        assert row["createdAt"][:10] == row["date"][:10]


def test_v2_date_filters_are_inclusive_and_next_keeps_them(http: httpx.Client, served: Served) -> None:
    headers = pluggy_key(http, served)
    account_id = _account(served)
    ledger = served.world.ledgers[account_id]
    first, last = date(2026, 10, 3), date(2026, 10, 6)
    rows, _ = walk_v2(
        http, headers, {"accountId": account_id, "dateFrom": first.isoformat(), "dateTo": last.isoformat()}
    )
    expected = [ledger.transaction_id(i) for i in range(len(ledger)) if first <= ledger.posting_date(i) <= last]
    assert [r["id"] for r in rows] == expected and len(expected) > 500
    assert {r["date"][:10] for r in rows} == {(first + timedelta(days=d)).isoformat() for d in range(4)}


def test_v2_created_at_from_and_ids_filters(http: httpx.Client, served: Served) -> None:
    headers = pluggy_key(http, served)
    account_id = _account(served)
    ledger = served.world.ledgers[account_id]
    cutoff = "2026-10-08T12:00:00.000Z"
    rows, _ = walk_v2(http, headers, {"accountId": account_id, "createdAtFrom": cutoff})
    assert rows and all(r["createdAt"] >= cutoff for r in rows)
    all_rows, _ = walk_v2(http, headers, {"accountId": account_id})
    assert [r["id"] for r in rows] == [r["id"] for r in all_rows if r["createdAt"] >= cutoff]
    wanted = [ledger.transaction_id(i) for i in (5, 1, 300)]
    picked, _ = walk_v2(http, headers, {"accountId": account_id, "ids": ",".join(wanted)})
    assert [r["id"] for r in picked] == [ledger.transaction_id(i) for i in (1, 5, 300)]


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({"after": "not base64!"}, {"message": "Invalid cursor", "code": 400}),
        ({"after": base64.b64encode(b"2026-10-01|nope").decode()}, {"message": "Invalid cursor", "code": 400}),
        ({"dateFrom": "2026-10-01", "createdAtFrom": "2026-10-01T00:00:00.000Z"}, None),
        ({"dateFrom": "01/10/2026"}, None),
        ({"ids": ",".join(str(uuid.uuid4()) for _ in range(501))}, None),
    ],
)
def test_v2_bad_parameters_are_400s(http: httpx.Client, served: Served, params: dict, body: dict | None) -> None:
    reply = http.get(
        "/pluggy/v2/transactions", params={"accountId": _account(served), **params}, headers=pluggy_key(http, served)
    )
    assert reply.status_code == 400
    strict(GlobalErrorResponse, reply.json())
    if body is not None:
        assert reply.json() == body


def test_v1_pages_agree_with_v2_and_match_the_sdk_model(http: httpx.Client, served: Served) -> None:
    headers = pluggy_key(http, served)
    account_id = _account(served, store=1)
    params = {"accountId": account_id, "from": "2026-10-02", "to": "2026-10-09"}
    v2, _ = walk_v2(http, headers, {"accountId": account_id, "dateFrom": "2026-10-02", "dateTo": "2026-10-09"})
    v1, page, total_pages = [], 1, None
    while total_pages is None or page <= total_pages:
        reply = http.get("/pluggy/transactions", params={**params, "pageSize": 300, "page": page}, headers=headers)
        body = strict(PageResponseTransactions, reply.json()).to_dict()
        raw = reply.json()
        assert raw["page"] == page and raw["total"] == len(v2)
        total_pages = raw["totalPages"]
        assert body["totalPages"] == -(-len(v2) // 300)
        v1 += raw["results"]
        page += 1
    assert v1 == v2
    default = http.get("/pluggy/transactions", params=params, headers=headers).json()
    assert len(default["results"]) == min(500, len(v2))
    beyond = http.get("/pluggy/transactions", params={**params, "page": total_pages + 1}, headers=headers).json()
    assert beyond["results"] == [] and beyond["total"] == len(v2)


@pytest.mark.parametrize("params", [{"pageSize": "501"}, {"pageSize": "0"}, {"page": "0"}, {"pageSize": "x"}])
def test_v1_page_bounds(http: httpx.Client, served: Served, params: dict) -> None:
    reply = http.get(
        "/pluggy/transactions", params={"accountId": _account(served), **params}, headers=pluggy_key(http, served)
    )
    assert reply.status_code == 400
    strict(GlobalErrorResponse, reply.json())


@pytest.mark.parametrize(("tenant", "store"), [(0, 0), (1, 0)])
def test_single_transaction_and_payout_credits(http: httpx.Client, served: Served, tenant: int, store: int) -> None:
    """A payout is shown as its payer asks: amount and date of the planned credit, the payer's descriptions,
    the payer and the store in the payment data (none at a bank that sends no payment data)."""
    headers = pluggy_key(http, served, tenant)
    account_id = _account(served, tenant, store)
    world = served.world
    ledger = world.ledgers[account_id]
    owner = world.facts["pluggy"].item_by_account[account_id]
    payouts = [i for i, kind in enumerate(ledger.kind) if kind == KIND_PAYOUT]
    assert payouts
    for i in payouts[:5]:
        reply = http.get(f"/pluggy/transactions/{ledger.transaction_id(i)}", headers=headers)
        assert reply.status_code == 200
        row = reply.json()
        txn = strict(Transaction, row)
        credit = ledger.payouts[ledger.party[i]]
        assert txn.type == "CREDIT" and txn.amount == credit.cents / 100
        assert row["date"] == f"{credit.posting_date.isoformat()}T00:00:00.000Z"
        assert (row["description"], row["descriptionRaw"]) == (credit.payer.description, credit.payer.description_raw)
        assert row["operationType"] == credit.payer.method
        if owner.connector.sends_payment_data:
            assert txn.payment_data.payer.document_number.value == credit.payer.document
            assert txn.payment_data.payer.name == credit.payer.legal_name
            assert txn.payment_data.receiver.document_number.value == owner.store.cnpj
        else:  # some banks send no payer data: only the description names the payer
            assert txn.payment_data is None
    missing = http.get(f"/pluggy/transactions/{uuid.uuid4()}", headers=headers)
    assert missing.status_code == 404
    strict(GlobalErrorResponse, missing.json())


def test_noise_never_looks_like_a_payout(http: httpx.Client, served: Served) -> None:
    headers = pluggy_key(http, served, tenant=1)
    account_id = _account(served, tenant=1, store=1)
    ledger = served.world.ledgers[account_id]
    payers = {credit.payer for credit in ledger.payouts}
    payout_ids = {ledger.transaction_id(i) for i, kind in enumerate(ledger.kind) if kind == KIND_PAYOUT}
    rows, _ = walk_v2(http, headers, {"accountId": account_id})
    for row in rows:
        if row["id"] in payout_ids:
            continue
        payer = ((row.get("paymentData") or {}).get("payer") or {}).get("documentNumber", {}).get("value")
        assert payer not in {p.document for p in payers}
        assert row["description"] not in {p.description for p in payers}
        assert all(p.legal_name not in (row.get("descriptionRaw") or "") for p in payers)


def test_a_payout_from_any_payer_is_shown_as_its_payer_asks(served: Served) -> None:
    """The ledger and the wire format know no platform: another payer's PIX, with its own reference,
    lands in the same account and is rendered from the credit alone."""
    world = served.world
    for bank_item in world.facts["pluggy"].items[:3]:  # a bank with payment data, and Banco do Brasil without
        payer = Payer(
            party=Counterparty("ACME PAGAMENTOS LTDA", new_cnpj(random.Random(1)), "CNPJ", "260", "0001", "12345-6"),
            description="PIX RECEBIDO - ACME PAGAMENTOS LTDA",
            description_raw="PIX RECEB ACME PAGAMENTOS",
            method="PIX",
        )
        credit = PlannedCredit(payer, bank_item.account_id, world.config.start, 123_456, "po_1", reference="po_1")
        ledger, posted = build_ledger(
            random.Random(3),
            account_id=bank_item.account_id,
            start=world.config.start,
            days=2,
            noise_per_day=5,
            credits=[credit],
            counterparties=world.counterparties,
            opening_balance_cents=0,
        )
        view = SimpleNamespace(ledgers={bank_item.account_id: ledger}, counterparties=world.counterparties)
        (i,) = [i for i, kind in enumerate(ledger.kind) if kind == KIND_PAYOUT]
        row = json.loads(TransactionRenderer(view, bank_item).render(i))
        txn = strict(Transaction, row)
        assert row["id"] == posted[credit] and txn.amount == 1234.56 and txn.type == "CREDIT"
        assert (row["description"], row["descriptionRaw"]) == (payer.description, payer.description_raw)
        assert (row["operationType"], row["category"]) == ("PIX", "Transfer - PIX")
        if bank_item.connector.sends_payment_data:
            assert txn.payment_data.payer.name == "ACME PAGAMENTOS LTDA"
            assert txn.payment_data.payer.document_number.value == payer.document
            assert (txn.payment_data.payment_method, txn.payment_data.reference_number) == ("PIX", "po_1")
        else:
            assert row["paymentData"] is None


def test_the_official_python_sdk_works_unchanged(served: Served) -> None:
    creds = served.tenant()["pluggy"]
    config = pluggy_sdk.Configuration(host=served.pluggy_url)
    with pluggy_sdk.ApiClient(config) as api:
        auth = pluggy_sdk.AuthApi(api).auth_create(
            pluggy_sdk.AuthRequest(client_id=creds["client_id"], client_secret=creds["client_secret"])
        )
        config.api_key["default"] = auth.api_key
        accounts = pluggy_sdk.AccountApi(api).accounts_list(item_id=creds["item_ids"][0])
        account_id = accounts.results[0].id
        page = pluggy_sdk.TransactionApi(api).transactions_list_by_cursor(account_id=account_id)
        seen = len(page.results)
        while page.next:
            after = httpx.QueryParams(page.next.lstrip("?"))["after"]
            page = pluggy_sdk.TransactionApi(api).transactions_list_by_cursor(account_id=account_id, after=after)
            seen += len(page.results)
    assert seen == len(served.world.ledgers[account_id])


# -------------------------------------------------------------------------------- rate limits


def test_pluggy_counts_per_endpoint_and_answers_its_429(limited: tuple[str, World, FakeClock]) -> None:
    base_url, world, clock = limited
    creds = world.credentials(base_url)["tenants"][0]["pluggy"]
    body = {"clientId": creds["client_id"], "clientSecret": creds["client_secret"]}
    with httpx.Client(base_url=base_url) as http:
        clock.advance(1.5)  # a fresh window
        statuses = [http.post("/pluggy/auth", json=body).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        clock.advance(0.4)
        refused = http.post("/pluggy/auth", json=body)
        assert refused.json() == TOO_MANY
        strict(GlobalErrorResponse, refused.json())
        assert refused.headers["ratelimit-limit"] == "3"
        assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"] == "2", "1.1 s left, rounded up"
        key = {"X-API-KEY": http.post("/pluggy/auth", json=body).json().get("apiKey", "")}
        item = http.get(f"/pluggy/items/{creds['item_ids'][0]}", headers=key)
        assert item.status_code == 403, "another endpoint has its own bucket (the refused key is empty: 403)"
        clock.advance(1.0)
        assert http.post("/pluggy/auth", json=body).status_code == 429, "still the same window"
        clock.advance(0.1)
        assert http.post("/pluggy/auth", json=body).status_code == 200, "the window has reset"
