"""The fake iFood's settlements, anticipations and reconciliation on demand, over real HTTP."""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
from served_sandbox import FakeClock, Served, ifood_bearer, pluggy_key

from sandbox.core.bank import KIND_PAYOUT
from sandbox.core.calendar import add_business_days
from sandbox.options import ServerOptions
from sandbox.providers.ifood.financial import anticipated_batches, closing_items, reconciliation_rows, settlement_id
from sandbox.providers.ifood.payer import IFOOD_PAYER
from sandbox.world import World, WorldConfig

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


def poll_until_done(
    http: httpx.Client, headers: dict, merchant_id: str, request_id: str, clock: FakeClock
) -> tuple[list[str], dict]:
    """Poll as a client would, the sandbox's clock moving half a second between polls."""
    statuses = []
    url = FIN.format(merchant_id) + f"/reconciliation/on-demand/{request_id}"
    for _ in range(100):
        reply = http.get(url, headers=headers)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        statuses.append(body["status"])
        if body["status"] in ("processed", "error"):
            return statuses, body
        clock.advance(0.5)
    raise AssertionError(f"never processed: {statuses[-3:]}")


def read_csv_gz(content: bytes) -> list[dict[str, str]]:
    text = gzip.decompress(content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


# ----------------------------------------------------------------------------------- settlements


def bank_ifood_credit_list(http: httpx.Client, served: Served, account_id: str, tenant: int = 0) -> list[tuple]:
    """(date, amount) of every iFood credit on the account, read from the fake Pluggy, sorted."""
    return sorted(
        (day, amount) for day, amounts in _bank_credits(http, served, account_id, tenant) for amount in amounts
    )


def _bank_credits(http: httpx.Client, served: Served, account_id: str, tenant: int) -> list[tuple[str, list]]:
    headers = pluggy_key(http, served, tenant)
    found: dict[str, list[Decimal]] = defaultdict(list)
    reply = http.get("/pluggy/v2/transactions", params={"accountId": account_id}, headers=headers)
    while True:
        assert reply.status_code == 200, reply.text
        body = reply.json()
        for tx in body["results"]:
            if "IFOOD" in tx["description"].upper() and tx["amount"] > 0:
                found[tx["date"][:10]].append(Decimal(str(tx["amount"])))
        if body["next"] is None:
            return list(found.items())
        reply = http.get("/pluggy/v2/transactions" + body["next"], headers=headers)


def anticipations(http: httpx.Client, headers: dict, merchant_id: str, **params: str) -> httpx.Response:
    return http.get(FIN.format(merchant_id) + "/anticipations", headers=headers, params=params)


@pytest.mark.parametrize(("tenant", "store"), [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_succeed_items_are_exactly_the_bank_credits(
    http: httpx.Client, served: Served, tenant: int, store: int
) -> None:
    """SUCCEED settlement items plus SUCCEED anticipation items = the iFood credits in the statement,
    but for those of the batches iFood's settlements do not list (WorldConfig.unlisted_settlement_rate)."""
    world = served.world
    ifood = world.facts["ifood"]
    headers = ifood_bearer(http, served, tenant)
    merchant_id = merchant(served, tenant, store)
    shop = ifood.merchant_by_id[merchant_id]
    window = {"beginPaymentDate": "2026-09-20", "endPaymentDate": "2026-10-20"}
    reply = settlements(http, headers, merchant_id, **window)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"beginDate", "endDate", "balance", "merchantId", "settlements"}
    assert (body["beginDate"], body["endDate"], body["merchantId"]) == ("2026-09-20", "2026-10-20", merchant_id)
    items = []
    for group in body["settlements"]:
        assert set(group) == {"startDateCalculation", "endDateCalculation", "closingItems"}
        assert group["startDateCalculation"] <= group["endDateCalculation"]
        for item in group["closingItems"]:
            assert set(item) == ITEM_FIELDS
            assert item["type"] == "REPASSE" and item["product"] == "IFOOD" and item["id"].isdigit()
            assert item["accountDetails"]["documentNumber"] == shop.cnpj_digits
            assert (item["status"] == "SUCCEED") == (item["transactionId"] is not None)
            items.append(item)
    assert len({i["id"] for i in items}) == len(items)
    paid = [(i["paymentDate"], Decimal(str(i["amount"]))) for i in items if i["status"] == "SUCCEED"]
    assert Decimal(str(body["balance"])) == sum(a for _, a in paid)

    reply = anticipations(
        http, headers, merchant_id, beginAnticipatedPaymentDate="2026-09-20", endAnticipatedPaymentDate="2026-10-20"
    )
    anticipated = [b for b in ifood.batches if b.merchant_id == merchant_id and b.anticipation]
    if not anticipated:
        assert reply.status_code == 404 and reply.json()["error"]["code"] == "NO_ANTICIPATION_PLAN"
    else:
        assert reply.status_code == 200, reply.text
        for group in reply.json()["settlements"]:
            for item in group["closingItems"]:
                if item["status"] == "SUCCEED":
                    paid.append((item["anticipatedPaymentDate"], Decimal(str(item["anticipatedPaymentAmount"]))))
    unlisted = [b for b in ifood.batches if b.merchant_id == merchant_id and not b.settlement_listed]
    paid += [(c.date.isoformat(), c.amount) for b in unlisted for c in b.credits if c.date < world.as_of]
    assert sorted(paid) == bank_ifood_credit_list(http, served, shop.account_id, tenant)


def test_settlement_items_follow_the_batches(http: httpx.Client, served: Served) -> None:
    """One group per batch not anticipated and listed; partial payments have two items; unpaid ones are PENDING."""
    world = served.world
    ifood = world.facts["ifood"]
    for tenant, store in ((0, 0), (1, 0)):
        headers = ifood_bearer(http, served, tenant)
        merchant_id = merchant(served, tenant, store)
        body = settlements(
            http, headers, merchant_id, beginCalculationDate="2026-09-20", endCalculationDate="2026-10-20"
        ).json()
        batches = {
            settlement_id(world.config.seed, merchant_id, b.expected_date): b
            for b in ifood.batches
            if b.merchant_id == merchant_id and b.anticipation is None and b.settlement_listed
        }
        assert len(body["settlements"]) == len(batches)
        for group in body["settlements"]:
            first, *rest = group["closingItems"]
            batch = batches[first["id"]]
            assert group["startDateCalculation"] == batch.first_sale_date.isoformat()
            assert group["endDateCalculation"] == batch.last_sale_date.isoformat()
            assert len(group["closingItems"]) == max(1, len(batch.credits))
            planned = [(c.date.isoformat(), c.amount) for c in batch.credits] or [
                (batch.expected_date.isoformat(), batch.total)
            ]
            got = [(i["paymentDate"], Decimal(str(i["amount"]))) for i in group["closingItems"]]
            assert got == planned
            if rest:
                assert sum(a for _, a in got) == batch.total
            for item, (day, _) in zip(group["closingItems"], planned, strict=True):
                assert item["status"] == ("SUCCEED" if day < world.as_of.isoformat() else "PENDING")
    # The small world has a partially paid batch still waiting for its second part.
    pending_second = [b for b in ifood.batches if b.fate == "partial_pending"]
    assert pending_second and all(b.credits[1].date >= world.as_of > b.credits[0].date for b in pending_second)


def test_settlements_by_calculation_date_window_and_empty_period(http: httpx.Client, served: Served) -> None:
    world = served.world
    headers = ifood_bearer(http, served)
    merchant_id = merchant(served)
    reply = settlements(http, headers, merchant_id, beginCalculationDate="2026-10-02", endCalculationDate="2026-10-03")
    assert reply.status_code == 200, reply.text
    groups = reply.json()["settlements"]
    expected = sorted(
        (b.first_sale_date.isoformat(), b.last_sale_date.isoformat())
        for b in world.facts["ifood"].batches
        if b.merchant_id == merchant_id
        and b.anticipation is None
        and b.first_sale_date <= date(2026, 10, 3)
        and b.last_sale_date >= date(2026, 10, 2)
    )
    assert [(g["startDateCalculation"], g["endDateCalculation"]) for g in groups] == expected and expected

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
    assert not [b for b in served.world.facts["ifood"].batches if b.merchant_id == merchant(served) and b.anticipation]
    reply = http.get(
        url, headers=headers, params={"beginCalculationDate": "2026-10-01", "endCalculationDate": "2026-10-10"}
    )
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "NO_ANTICIPATION_PLAN"
    reply = http.get(url, headers=headers, params={"beginCalculationDate": "2026-10-01"})
    assert reply.status_code == 400
    assert http.get(url, params={"beginCalculationDate": "2026-10-01"}).status_code == 401


def test_anticipations_of_a_store_that_anticipated(http: httpx.Client, served: Served) -> None:
    world = served.world
    ifood = world.facts["ifood"]
    headers = ifood_bearer(http, served)
    merchant_id = merchant(served, store=1)
    shop = ifood.merchant_by_id[merchant_id]
    (batch,) = [b for b in ifood.batches if b.merchant_id == merchant_id and b.anticipation]
    a = batch.anticipation
    reply = anticipations(
        http, headers, merchant_id, beginCalculationDate="2026-09-20", endCalculationDate="2026-10-20"
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"beginDate", "endDate", "balance", "merchantId", "settlements"}
    (group,) = body["settlements"]
    assert group["startDateCalculation"] == batch.first_sale_date.isoformat()
    assert group["endDateCalculation"] == batch.last_sale_date.isoformat()
    (item,) = group["closingItems"]
    assert item == {
        "id": settlement_id(world.config.seed, merchant_id, batch.expected_date),
        "type": "REPASSE_ANTECIPADO_DIARIO",
        "originalPaymentAmount": float(batch.total),
        "feePercentage": float(shop.anticipation_fee_rate),
        "feeAmount": float(a.fee),
        "anticipatedPaymentAmount": float(batch.total - a.fee),
        "status": "SUCCEED",
        "originalPaymentDate": batch.expected_date.isoformat(),
        "anticipatedPaymentDate": a.date.isoformat(),
        "accountDetails": item["accountDetails"],
    }
    assert item["accountDetails"]["documentNumber"] == shop.cnpj_digits
    assert a.fee == (batch.total * shop.anticipation_fee_rate).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert a.date == add_business_days(batch.last_sale_date, 1) and a.date < batch.expected_date
    assert Decimal(str(body["balance"])) == batch.total - a.fee
    # Not a settlement: the anticipation paid it.
    body = settlements(http, headers, merchant_id, beginCalculationDate="2026-09-20", endCalculationDate="2026-10-20")
    ids = {i["id"] for g in body.json()["settlements"] for i in g["closingItems"]}
    assert item["id"] not in ids
    # Windows: by anticipated payment date; a window without one answers an empty envelope.
    day = a.date.isoformat()
    hit = anticipations(http, headers, merchant_id, beginAnticipatedPaymentDate=day, endAnticipatedPaymentDate=day)
    assert [g["closingItems"][0]["id"] for g in hit.json()["settlements"]] == [item["id"]]
    empty = anticipations(
        http, headers, merchant_id, beginAnticipatedPaymentDate="2026-08-01", endAnticipatedPaymentDate="2026-08-31"
    )
    assert empty.status_code == 200 and empty.json()["settlements"] == [] and empty.json()["balance"] == 0
    too_long = anticipations(
        http, headers, merchant_id, beginCalculationDate="2026-09-01", endCalculationDate="2026-10-20"
    )
    assert too_long.status_code == 400


# ------------------------------------------------------------------------ reconciliation on demand


def test_on_demand_file_ties_to_settlements(http: httpx.Client, served: Served) -> None:
    world = served.world
    ifood = world.facts["ifood"]
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

    statuses, done = poll_until_done(http, headers, merchant_id, request_id, served.clock)
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

    events = [e for e in ifood.events_by_merchant[merchant_id] if e.business_date.isoformat()[:7] == "2026-10"]
    assert len(rows) == len(events)
    assert {r["competencia"] for r in rows} == {"2026-10"} and {r["impacto_no_repasse"] for r in rows} == {"SIM"}
    assert {r["pedido_associado_ifood"] for r in rows} == {e.order_id for e in events}

    # Per id_saldo, the SIM lines sum to the batch total (reversals of refunds and orphan events
    # included); the ids are the first closing items' ids (or the anticipation item's id).
    per_saldo: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        assert "," in row["valor"]
        per_saldo[row["id_saldo"]] += Decimal(row["valor"].replace(",", "."))
        if row["tipo_lancamento"] == "estorno":
            assert row["fato_gerador"] == "Cancelamento Total"
    seed = world.config.seed
    batches = {
        settlement_id(seed, merchant_id, b.expected_date): b for b in ifood.batches if b.merchant_id == merchant_id
    }
    for saldo, total in per_saldo.items():
        if saldo in batches:
            batch = batches[saldo]
            if batch.last_sale_date.isoformat()[:7] == batch.first_sale_date.isoformat()[:7] == "2026-10":
                assert total == batch.total
        else:  # lines without a batch: days whose orders were all cancelled (net 0)
            assert total == 0
    body = settlements(
        http, headers, merchant_id, beginCalculationDate="2026-10-01", endCalculationDate="2026-10-31"
    ).json()
    for group in body["settlements"]:
        first = group["closingItems"][0]
        assert first["id"] in per_saldo
        if len(group["closingItems"]) == 1 and first["status"] == "PENDING":
            assert Decimal(str(first["amount"])) == per_saldo[first["id"]]


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
    statuses, done = poll_until_done(http, headers, merchant_id, request_id, served.clock)
    assert statuses[0] == "created" and done["status"] == "error" and "No financial entries" in done["message"]
    # Another merchant of the same application does not see the request.
    other = FIN.format(merchant(served, store=1)) + f"/reconciliation/on-demand/{request_id}"
    assert http.get(other, headers=headers).status_code == 404


def test_download_link_expires_and_cannot_be_forged(http: httpx.Client, served: Served) -> None:
    headers = ifood_bearer(http, served, tenant=1)
    merchant_id = merchant(served, tenant=1)
    reply = http.post(
        FIN.format(merchant_id) + "/reconciliation/on-demand", json={"competence": "2026-10"}, headers=headers
    )
    assert reply.status_code in (202, 409)
    request_id = reply.json().get("requestId") or reply.json()["message"].rsplit(" ", 1)[-1]
    statuses, done = poll_until_done(http, headers, merchant_id, request_id, served.clock)
    assert statuses[-1] == "processed"
    link = done["downloadPath"]
    assert httpx.get(link).status_code == 200
    expires = int(link.split("expires=")[1].split("&")[0])
    forged = link.replace(f"expires={expires}", f"expires={expires + 3600}")
    assert httpx.get(forged).status_code == 403
    # Served as if the link's lifetime (300 s) had passed: S3's answer for an expired link.
    ttl = ServerOptions().of("ifood").download_ttl_s
    inject = {"provider": "ifood", "path_prefix": "/_sandbox/files", "responses": [{"advance_clock_s": ttl + 1}]}
    assert http.post("/_sandbox/faults", json=inject).status_code == 201
    expired = httpx.get(link)
    assert expired.status_code == 403 and b"<Code>AccessDenied</Code><Message>Request has expired" in expired.content
    # Polling again gives a link that downloads.
    _, again = poll_until_done(http, headers, merchant_id, request_id, served.clock)
    assert httpx.get(again["downloadPath"]).status_code == 200


# ------------------------------------------------------------------ the report lines, world-wide


def test_report_lines_sum_to_each_batch_total_in_the_default_world() -> None:
    """Per id_saldo, over every competence, the lines sum to T (refund reversals and orphans included)."""
    world = World()
    ifood = world.facts["ifood"]
    seed = world.config.seed
    for store in ifood.merchants:
        competences = sorted({e.business_date.isoformat()[:7] for e in ifood.events_by_merchant[store.merchant_id]})
        rows = [row for c in competences for row in reconciliation_rows(ifood, store, c)]
        assert len(rows) == len(ifood.events_by_merchant[store.merchant_id])
        per_saldo: dict[str, Decimal] = defaultdict(Decimal)
        for row in rows:
            per_saldo[row["id_saldo"]] += Decimal(row["valor"].replace(",", "."))
        batches = {
            settlement_id(seed, store.merchant_id, b.expected_date): b
            for b in ifood.batches
            if b.merchant_id == store.merchant_id
        }
        for saldo, batch in batches.items():
            assert per_saldo[saldo] == batch.total
        assert all(total == 0 for saldo, total in per_saldo.items() if saldo not in batches)
    # A refund's reversal line carries the later batch's id_saldo and says Cancelamento Total / estorno.
    refunded = [o for o in ifood.orders if o.kind == "refunded"]
    assert refunded
    for order in refunded:
        store = ifood.merchant_by_id[order.merchant_id]
        reversal = order.events[-1]
        lines = [
            r
            for r in reconciliation_rows(ifood, store, reversal.business_date.isoformat()[:7])
            if r["pedido_associado_ifood"] == order.order_id and r["tipo_lancamento"] == "estorno"
        ]
        (line,) = lines
        assert line["fato_gerador"] == "Cancelamento Total"
        assert line["id_saldo"] == settlement_id(seed, order.merchant_id, reversal.expected_date)
        assert line["data_repasse_esperada"] == reversal.expected_date.isoformat() > order.expected_date.isoformat()
    # Orphan orders have lines (and events) but no sale.
    orphans = [o for o in ifood.orders if not o.has_sale]
    assert orphans and all(o.events for o in orphans)
    assert not {o.order_id for o in orphans} & {o.order_id for s in ifood.sales_by_merchant.values() for o in s}


def test_weekly_world_is_served_consistently() -> None:
    """A weekly-schedule world: settlement and anticipation items agree with the bank credits."""
    world = World(WorldConfig(tenants=1, stores_per_tenant=4, days=56, payout_schedule="weekly"))
    ifood = world.facts["ifood"]
    groups = closing_items(ifood)
    anticipated = anticipated_batches(ifood)
    for shop in ifood.merchants:
        ledger = world.ledgers[shop.account_id]
        bank = sorted(
            (ledger.posting_date(i), ledger.amount_of(i))
            for i, k in enumerate(ledger.kind)
            if k == KIND_PAYOUT and ledger.payouts[ledger.party[i]].payer == IFOOD_PAYER
        )
        paid = [(i.payment_date, i.amount) for items in groups[shop.merchant_id] for i in items if i.paid]
        paid += [(b.anticipation.date, b.anticipation.amount) for b in anticipated[shop.merchant_id]]
        unlisted = [b for b in ifood.batches if b.merchant_id == shop.merchant_id and not b.settlement_listed]
        paid += [(c.date, c.amount) for b in unlisted for c in b.credits if c.date < world.as_of]
        assert sorted(paid) == bank
