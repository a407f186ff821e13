"""The sandbox server: control surface, fault injection, request log, rate limits, throughput."""

from __future__ import annotations

import json

import httpx
import pytest
from served_sandbox import TINY, Served, ifood_bearer, pluggy_key

from sandbox.server import start_in_thread


def inject(http: httpx.Client, **spec) -> dict:
    reply = http.post("/_sandbox/faults", json=spec)
    assert reply.status_code == 201, reply.text
    return reply.json()


# ----------------------------------------------------------------------------------- control


def test_health_and_credentials(http: httpx.Client, served: Served) -> None:
    health = http.get("/_sandbox/health").json()
    ifood = served.world.facts["ifood"]
    assert health["status"] == "ok" and health["orders"] == len(ifood.orders)
    assert health["payout_batches"] == len(ifood.batches)
    assert health["bank_transactions"] == served.world.bank_transaction_count
    assert health["status_counts"] == served.world.status_counts()
    assert health["rate_limits"] == {"pluggy": None, "ifood": None, "ifood_token": None, "pushinpay": None}
    pushinpay = served.world.facts["pushinpay"]
    assert health["pushinpay_charges"] == len(pushinpay.charges)
    assert health["pushinpay_payouts"] == len(pushinpay.payouts)
    assert http.get("/_sandbox/credentials").json() == served.credentials


def test_start_in_thread_takes_a_config_and_stops_cleanly() -> None:
    base_url, stop = start_in_thread(TINY, port=0)
    assert httpx.get(f"{base_url}/_sandbox/health").status_code == 200
    stop()
    stop()  # idempotent
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/_sandbox/health", timeout=2)


def test_faults_are_consumed_once_each_in_order_and_logged(http: httpx.Client, served: Served) -> None:
    headers = pluggy_key(http, served)
    account_id = served.tenant()["pluggy"]["account_ids"][0]
    inject(
        http,
        provider="pluggy",
        path_prefix="/v2/transactions",
        responses=[{"status": 429, "headers": {"Retry-After": "1"}}, {"status": 503}],
    )
    http.delete("/_sandbox/requests")
    replies = [http.get("/pluggy/v2/transactions", params={"accountId": account_id}, headers=headers) for _ in range(3)]
    assert [r.status_code for r in replies] == [429, 503, 200]
    assert replies[0].headers["retry-after"] == "1"
    assert replies[1].json() == {"code": 503, "message": "Fault injected by the sandbox"}
    log = http.get("/_sandbox/requests").json()
    assert [(e["path"], e["status"], e["fault"]) for e in log] == [
        ("/pluggy/v2/transactions", 429, True),
        ("/pluggy/v2/transactions", 503, True),
        ("/pluggy/v2/transactions", 200, False),
    ]
    assert http.get("/_sandbox/faults").json() == []


def test_fault_count_body_method_and_prefix_matching(http: httpx.Client, served: Served) -> None:
    headers = ifood_bearer(http, served)
    merchant = served.tenant()["ifood"]["merchant_ids"][0]
    url = f"/ifood/financial/v3.0/merchants/{merchant}/sales"
    params = {"beginSalesDate": "2026-10-01", "endSalesDate": "2026-10-01"}
    inject(
        http,
        provider="ifood",
        path_prefix="/financial/v3.0",
        method="GET",
        count=2,
        responses=[{"status": 500, "body": {"oops": True}}],
    )
    inject(http, provider="pluggy", path_prefix="/financial", status=418)  # other provider: never matches
    assert http.get(url, headers=headers, params=params).json() == {"oops": True}
    assert http.get(url, headers=headers, params=params).status_code == 500
    assert http.get(url, headers=headers, params=params).status_code == 200
    assert http.delete("/_sandbox/faults").json() == {"cleared": 1}


def test_a_delay_beyond_the_clients_timeout_is_a_timeout_then_the_provider_answers(
    http: httpx.Client, served: Served
) -> None:
    inject(http, provider="pluggy", path_prefix="/auth", responses=[{"delay_s": 0.5}])
    creds = served.tenant()["pluggy"]
    body = {"clientId": creds["client_id"], "clientSecret": creds["client_secret"]}
    with pytest.raises(httpx.ReadTimeout):
        http.post("/pluggy/auth", json=body, timeout=httpx.Timeout(5.0, read=0.05))
    assert http.post("/pluggy/auth", json=body).status_code == 200, "the delay was consumed once"


def test_mangled_answers_truncate_corrupt_or_replace_the_providers_body(http: httpx.Client, served: Served) -> None:
    headers = pluggy_key(http, served)
    params = {"accountId": served.tenant()["pluggy"]["account_ids"][0]}
    whole = http.get("/pluggy/v2/transactions", params=params, headers=headers).content
    inject(http, provider="pluggy", path_prefix="/v2/transactions", responses=[{"truncate": "body"}])
    cut = http.get("/pluggy/v2/transactions", params=params, headers=headers)
    assert cut.status_code == 200 and cut.content == whole[: len(whole) // 2]
    inject(http, provider="pluggy", path_prefix="/v2/transactions", responses=[{"truncate": "connection"}])
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/pluggy/v2/transactions", params=params, headers=headers)
    corrupt = {"path": "amount", "value": "131,8,9", "nth": 2}
    inject(http, provider="pluggy", path_prefix="/v2/transactions", responses=[{"corrupt": corrupt}])
    results = http.get("/pluggy/v2/transactions", params=params, headers=headers).json()["results"]
    clean = json.loads(whole)["results"]
    assert results[2]["amount"] == "131,8,9" and results[:2] + results[3:] == clean[:2] + clean[3:]
    inject(
        http,
        provider="pluggy",
        path_prefix="/v2/transactions",
        responses=[{"corrupt": {"path": "date", "delete": True}}],
    )
    assert "date" not in http.get("/pluggy/v2/transactions", params=params, headers=headers).json()["results"][0]
    html = {"status": 502, "raw_body": "<html>Bad Gateway</html>", "content_type": "text/html"}
    inject(http, provider="pluggy", path_prefix="/v2/transactions", responses=[html])
    reply = http.get("/pluggy/v2/transactions", params=params, headers=headers)
    assert (reply.status_code, reply.headers["content-type"], reply.text) == (
        502,
        "text/html",
        "<html>Bad Gateway</html>",
    )
    assert http.get("/_sandbox/faults").json() == []


def test_a_corruption_that_matches_nothing_is_a_visible_500(http: httpx.Client, served: Served) -> None:
    headers = pluggy_key(http, served)
    params = {"accountId": served.tenant()["pluggy"]["account_ids"][0]}
    inject(
        http, provider="pluggy", path_prefix="/v2/transactions", responses=[{"corrupt": {"path": "nope", "value": 1}}]
    )
    reply = http.get("/pluggy/v2/transactions", params=params, headers=headers)
    assert reply.status_code == 500 and "no" in reply.json()["sandbox_error"]


@pytest.mark.parametrize(
    "spec",
    [
        {"provider": "stripe", "responses": [{"status": 500}]},
        {"provider": "pluggy", "responses": []},
        {"provider": "pluggy", "responses": [{"status": 99}]},
        {"provider": "pluggy", "path_prefix": "v2", "responses": [{"status": 500}]},
        {"provider": "pluggy", "responses": [{"status": 500}], "count": 0},
        {"provider": "pluggy", "responses": [{"truncate": "half"}]},
        {"provider": "pluggy", "responses": [{"status": 200, "truncate": "body"}]},
        {"provider": "pluggy", "responses": [{"raw_body": "<html>"}]},
        {"provider": "pluggy", "responses": [{"status": 200, "raw_body": "x", "body": {}}]},
        {"provider": "pluggy", "responses": [{"corrupt": {"path": "amount"}}]},
        {"provider": "pluggy", "responses": [{"corrupt": {"path": "amount", "value": 1}, "truncate": "body"}]},
        {"provider": "pluggy", "responses": [{"advance_clock_s": -1}]},
        {"provider": "pluggy", "responses": [{"stauts": 500}]},
    ],
)
def test_bad_fault_specs_are_refused(http: httpx.Client, spec: dict) -> None:
    reply = http.post("/_sandbox/faults", json=spec)
    assert reply.status_code == 400 and reply.json()["error"]


def test_unknown_paths_answer_in_the_providers_style(http: httpx.Client) -> None:
    assert http.get("/pluggy/nothing-here").json() == {"code": 404, "message": "Not Found"}
    assert http.get("/ifood/nothing-here").json()["error"]["code"] == "NotFound"


# -------------------------------------------------------------------------------- rate limits


def test_rate_limits_can_be_switched_off(http: httpx.Client, served: Served) -> None:
    headers = pluggy_key(http, served)
    item_id = served.tenant()["pluggy"]["item_ids"][0]
    assert all(http.get(f"/pluggy/items/{item_id}", headers=headers).status_code == 200 for _ in range(400))


def test_server_options_cross_into_another_process() -> None:
    """The benchmarks serve the world from a spawned process, which receives the options pickled."""
    import pickle

    from sandbox.options import ServerOptions

    options = ServerOptions(request_log_size=7).with_platform("ifood", ondemand_delay_s=0).with_rate_limit(None)
    copy = pickle.loads(pickle.dumps(options))
    assert copy == options and copy.request_log_size == 7
    assert copy.of("ifood").ondemand_delay_s == 0 and set(copy.rate_limits().values()) == {None}
