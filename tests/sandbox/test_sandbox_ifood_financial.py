"""The fake iFood's settlements, anticipations and reconciliation on demand, over real HTTP."""

from __future__ import annotations

import csv
import gzip
import io
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
from served_sandbox import Served, ifood_bearer, pluggy_key

from sandbox.options import ServerOptions
from sandbox.server import start_in_thread

FIN = "/ifood/financial/v3.0/merchants/{}"
REFERENCE_COLUMNS = (
    "competencia; data_fato_gerador; fato_gerador; tipo_lancamento; descricao_lancamento; valor; base_calculo; "
    "percentual_taxa; pedido_associado_ifood; pedido_associado_ifood_curto; pedido_associado_externo; "
    "motivo_cancelamento; descricao_ocorrencia; data_criacao_pedido_associado; data_repasse_esperada; "
    "valor_transacao; loja_id; loja_id_curto; loja_id_externo; cnpj; titulo; data_faturamento; "
    "data_apuracao_inicio; data_apuracao_fim; valor_cesta_inicial; valor_cesta_final; responsavel_transacao; "
    "canal_vendas; impacto_no_repasse; parcela_pagamento; id_saldo"
).split("; ")
ITEM_FIELDS = {"id", "type", "product", "amount", "status", "transactionId", "accountDetails", "paymentDate"}


def merchant(served: Served, tenant: int = 0, store: int = 0) -> str:
    return served.tenant(tenant)["ifood"]["merchant_ids"][store]


def settlements(http: httpx.Client, headers: dict, merchant_id: str, **params: str) -> httpx.Response:
    return http.get(FIN.format(merchant_id) + "/settlements", headers=headers, params=params)


def bank_ifood_credits(http: httpx.Client, served: Served, account_id: str) -> dict[str, Decimal]:
    """Date → iFood credit amount on the account, read from the fake Pluggy."""
    headers = pluggy_key(http, served)
    credits: dict[str, Decimal] = defaultdict(Decimal)
    reply = http.get("/pluggy/v2/transactions", params={"accountId": account_id}, headers=headers)
    while True:
        assert reply.status_code == 200, reply.text
        body = reply.json()
        for tx in body["results"]:
            if "IFOOD" in tx["description"].upper() and tx["amount"] > 0:
                credits[tx["date"][:10]] += Decimal(str(tx["amount"]))
        if body["next"] is None:
            return credits
        reply = http.get("/pluggy/v2/transactions" + body["next"], headers=headers)


def poll_until_done(http: httpx.Client, headers: dict, merchant_id: str, request_id: str) -> tuple[list[str], dict]:
    statuses = []
    url = FIN.format(merchant_id) + f"/reconciliation/on-demand/{request_id}"
    for _ in range(100):
        reply = http.get(url, headers=headers)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        statuses.append(body["status"])
        if body["status"] in ("processed", "error"):
            return statuses, body
        time.sleep(0.1)
    raise AssertionError(f"never processed: {statuses[-3:]}")


def read_csv_gz(content: bytes) -> list[dict[str, str]]:
    text = gzip.decompress(content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


# ----------------------------------------------------------------------------------- settlements


def test_settlements_envelope_and_amounts_match_the_bank(http: httpx.Client, served: Served) -> None:
    world = served.world
    headers = ifood_bearer(http, served)
    merchant_id = merchant(served)
    store = world.store_by_merchant[merchant_id]
    reply = settlements(http, headers, merchant_id, beginPaymentDate="2026-09-15", endPaymentDate="2026-10-15")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"beginDate", "endDate", "balance", "merchantId", "settlements"}
    assert (body["beginDate"], body["endDate"], body["merchantId"]) == ("2026-09-15", "2026-10-15", merchant_id)
    items = []
    for group in body["settlements"]:
        assert set(group) == {"startDateCalculation", "endDateCalculation", "closingItems"}
        for item in group["closingItems"]:
            assert set(item) == ITEM_FIELDS
            assert item["type"] == "REPASSE" and item["product"] == "IFOOD" and item["id"].isdigit()
            assert item["accountDetails"]["documentNumber"] == store.cnpj_digits
            items.append(item)
    batches = [b for b in world.batches if b.merchant_id == merchant_id]
    assert len(items) == len(batches) and len({i["id"] for i in items}) == len(items)
    paid = [i for i in items if i["status"] == "SUCCEED"]
    pending = [i for i in items if i["status"] == "PENDING"]
    assert paid and pending and len(paid) + len(pending) == len(items)
    assert all(i["transactionId"] for i in paid) and all(i["transactionId"] is None for i in pending)

    # Every SUCCEED item is a bank credit: same date, same amount; the balance is their sum.
    bank = bank_ifood_credits(http, served, store.account_id)
    by_date: dict[str, Decimal] = defaultdict(Decimal)
    for item in paid:
        by_date[item["paymentDate"]] += Decimal(str(item["amount"]))
    assert by_date == bank
    assert Decimal(str(body["balance"])) == sum(bank.values())
    # PENDING items are the batches with no visible credit, dated on their expected date.
    unpaid = {b.expected_date.isoformat() for b in batches if b.credit_transaction_id is None}
    assert {i["paymentDate"] for i in pending} == unpaid


def test_settlements_by_calculation_date_window_and_empty_period(http: httpx.Client, served: Served) -> None:
    headers = ifood_bearer(http, served)
    merchant_id = merchant(served)
    reply = settlements(http, headers, merchant_id, beginCalculationDate="2026-10-02", endCalculationDate="2026-10-03")
    assert reply.status_code == 200, reply.text
    groups = reply.json()["settlements"]
    assert [g["startDateCalculation"] for g in groups] == ["2026-10-02", "2026-10-03"]

    reply = settlements(http, headers, merchant_id, beginPaymentDate="2026-10-01", endPaymentDate="2026-11-01")
    assert reply.status_code == 400
    assert reply.json()["error"]["field"] == "endPaymentDate"
    reply = settlements(http, headers, merchant_id, beginPaymentDate="2026-10-01")
    assert reply.status_code == 400 and reply.json()["error"]["field"] == "endPaymentDate"

    reply = settlements(http, headers, merchant_id, beginPaymentDate="2026-08-01", endPaymentDate="2026-08-31")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "NO_SETTLEMENTS_FOUND"


def test_settlements_and_on_demand_need_a_bearer_of_the_merchants_app(http: httpx.Client, served: Served) -> None:
    merchant_id = merchant(served)
    params = {"beginPaymentDate": "2026-10-01", "endPaymentDate": "2026-10-10"}
    assert settlements(http, {}, merchant_id, **params).status_code == 401
    assert settlements(http, {"Authorization": "Bearer nope"}, merchant_id, **params).status_code == 401
    other = ifood_bearer(http, served, tenant=1)
    assert settlements(http, other, merchant_id, **params).status_code == 403
    url = FIN.format(merchant_id) + "/reconciliation/on-demand"
    assert http.post(url, json={"competence": "2026-10"}).status_code == 401
    assert http.post(url, json={"competence": "2026-10"}, headers=other).status_code == 403
    assert http.get(url + "/00000000-0000-4000-8000-000000000000").status_code == 401


def test_anticipations_answer_404_without_a_plan(http: httpx.Client, served: Served) -> None:
    headers = ifood_bearer(http, served)
    url = FIN.format(merchant(served)) + "/anticipations"
    reply = http.get(
        url, headers=headers, params={"beginCalculationDate": "2026-10-01", "endCalculationDate": "2026-10-10"}
    )
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "NO_ANTICIPATION_PLAN"
    reply = http.get(url, headers=headers, params={"beginCalculationDate": "2026-10-01"})
    assert reply.status_code == 400
    assert http.get(url, params={"beginCalculationDate": "2026-10-01"}).status_code == 401


# ------------------------------------------------------------------------ reconciliation on demand


def test_on_demand_file_ties_to_settlements(http: httpx.Client, served: Served) -> None:
    world = served.world
    headers = ifood_bearer(http, served)
    merchant_id = merchant(served, store=1)
    url = FIN.format(merchant_id) + "/reconciliation/on-demand"
    reply = http.post(url, json={"competence": "2026-10"}, headers=headers)
    assert reply.status_code == 202, reply.text
    created = reply.json()
    assert set(created) == {"competence", "merchantId", "requestId"}
    assert created["competence"] == "2026-10" and created["merchantId"] == merchant_id
    request_id = created["requestId"]

    again = http.post(url, json={"competence": "2026-10"}, headers=headers)
    assert again.status_code == 409
    assert again.json() == {"code": "409", "message": f"There is already a recent and valid request Id: {request_id}"}

    statuses, done = poll_until_done(http, headers, merchant_id, request_id)
    assert statuses[0] == "created" and statuses[-1] == "processed"
    assert set(done) == {"id", "competence", "status", "downloadPath"} and done["id"] == request_id
    link = urlsplit(done["downloadPath"])
    assert f"{link.scheme}://{link.netloc}" == served.base_url
    assert link.path.startswith("/_sandbox/files/") and link.path.endswith(".csv.gz") and "expires=" in link.query

    download = httpx.get(done["downloadPath"], timeout=30)  # no bearer, like a pre-signed S3 URL
    assert download.status_code == 200
    raw = gzip.decompress(download.content).decode("utf-8")
    header = raw.split("\n", 1)[0].split(";")
    assert sorted(header) == sorted(REFERENCE_COLUMNS) and header != REFERENCE_COLUMNS
    rows = read_csv_gz(download.content)

    events = [e for e in world.events_by_merchant[merchant_id] if e.business_date.isoformat()[:7] == "2026-10"]
    assert len(rows) == len(events)
    assert {r["competencia"] for r in rows} == {"2026-10"} and {r["impacto_no_repasse"] for r in rows} == {"SIM"}
    assert {r["pedido_associado_ifood"] for r in rows} == {e.order_id for e in events}

    # Per id_saldo, the SIM lines sum to the batch total; the ids are the settlement items' ids.
    per_saldo: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        assert "," in row["valor"]
        per_saldo[row["id_saldo"]] += Decimal(row["valor"].replace(",", "."))
    body = settlements(
        http, headers, merchant_id, beginCalculationDate="2026-10-01", endCalculationDate="2026-10-31"
    ).json()
    term = timedelta(days=world.config.payout_term_days)
    totals = {b.expected_date: b.total for b in world.batches if b.merchant_id == merchant_id}
    items = {}
    for group in body["settlements"]:
        (item,) = group["closingItems"]
        items[item["id"]] = item
        assert per_saldo[item["id"]] == totals[date.fromisoformat(group["startDateCalculation"]) + term]
        if item["status"] == "PENDING":
            assert Decimal(str(item["amount"])) == per_saldo[item["id"]]
    # Lines without a settlement item only belong to days whose orders were all cancelled (net 0).
    assert all(total == 0 for saldo, total in per_saldo.items() if saldo not in items)


def test_on_demand_errors(http: httpx.Client, served: Served) -> None:
    headers = ifood_bearer(http, served)
    merchant_id = merchant(served, store=0)
    url = FIN.format(merchant_id) + "/reconciliation/on-demand"
    for body in ({}, {"competence": "2026-13"}, {"competence": "202610"}):
        reply = http.post(url, json=body, headers=headers)
        assert reply.status_code == 400 and reply.json()["code"] == "400"
    missing = http.get(url + "/00000000-0000-4000-8000-000000000000", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"] == "404"

    # A month without events ends in `error`, with iFood's message.
    reply = http.post(url, json={"competence": "2026-08"}, headers=headers)
    assert reply.status_code == 202
    request_id = reply.json()["requestId"]
    statuses, done = poll_until_done(http, headers, merchant_id, request_id)
    assert statuses[0] == "created" and done["status"] == "error" and "No financial entries" in done["message"]
    # Another merchant of the same application does not see the request.
    other = FIN.format(merchant(served, store=1)) + f"/reconciliation/on-demand/{request_id}"
    assert http.get(other, headers=headers).status_code == 404


@pytest.fixture(scope="module")
def short_links(served: Served) -> Iterator[tuple[str, Served]]:
    options = ServerOptions(ifood_ondemand_delay_s=0.0, ifood_download_ttl_s=0.5).with_rate_limit(None)
    base_url, stop = start_in_thread(served.world, port=0, options=options)
    yield base_url, Served(base_url, served.world, served.world.credentials(base_url))
    stop()


def test_download_link_expires_and_cannot_be_forged(short_links: tuple[str, Served]) -> None:
    base_url, served = short_links
    with httpx.Client(base_url=base_url, timeout=30) as http:
        headers = ifood_bearer(http, served, tenant=1)
        merchant_id = merchant(served, tenant=1)
        reply = http.post(
            FIN.format(merchant_id) + "/reconciliation/on-demand", json={"competence": "2026-10"}, headers=headers
        )
        assert reply.status_code == 202
        statuses, done = poll_until_done(http, headers, merchant_id, reply.json()["requestId"])
        assert statuses == ["created", "processed"]
        link = done["downloadPath"]
        assert httpx.get(link).status_code == 200
        expires = int(link.split("expires=")[1].split("&")[0])
        forged = link.replace(f"expires={expires}", f"expires={expires + 3600}")
        assert httpx.get(forged).status_code == 403
        while time.time() <= expires:
            time.sleep(0.05)
        expired = httpx.get(link)
        assert expired.status_code == 403 and b"AccessDenied" in expired.content
        # Polling again gives a fresh link.
        _, again = poll_until_done(http, headers, merchant_id, reply.json()["requestId"])
        assert again["downloadPath"] != link and httpx.get(again["downloadPath"]).status_code == 200
