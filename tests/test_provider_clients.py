"""The provider clients against the sandbox over real sockets: paging, auth, retries.

Faults (429 with Retry-After, 503, revoked keys) are injected through the sandbox's control
surface, so what is exercised is our transport's real behaviour on the wire.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from plugins.providers.base import Interval
from plugins.providers.errors import AuthenticationError, RateLimitedError
from plugins.providers.ifood import IfoodClient, IfoodProvider
from plugins.providers.pluggy import PluggyClient, PluggyProvider
from plugins.providers.transport import RetryPolicy
from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig

CONFIG = WorldConfig(seed=11, tenants=1, stores_per_tenant=2, days=10, orders_per_day=60, bank_noise_per_day=120)
FIRST, LAST = CONFIG.start, CONFIG.start + timedelta(days=CONFIG.days - 1)


@pytest.fixture(scope="module")
def sandbox():
    world = World(CONFIG)
    base_url, stop = start_in_thread(world, port=0)
    creds = world.credentials(base_url)
    yield base_url, creds["base_urls"], creds["tenants"][0], world
    stop()


@pytest.fixture(autouse=True)
def no_faults(sandbox):
    base_url = sandbox[0]
    httpx.delete(f"{base_url}/_sandbox/faults")
    yield
    httpx.delete(f"{base_url}/_sandbox/faults")


def inject(base_url: str, provider: str, path_prefix: str, *responses: dict) -> None:
    reply = httpx.post(
        f"{base_url}/_sandbox/faults",
        json={"provider": provider, "path_prefix": path_prefix, "responses": list(responses)},
    )
    reply.raise_for_status()


def requests_log(base_url: str) -> list[dict]:
    return httpx.get(f"{base_url}/_sandbox/requests").json()


class Sleeps(list):
    """Records the waits the transport asks for, and spends none of them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def pluggy(urls: dict, tenant: dict, **transport) -> PluggyClient:
    return PluggyClient(
        tenant["pluggy"]["client_id"], tenant["pluggy"]["client_secret"], base_url=urls["pluggy"], **transport
    )


def ifood(urls: dict, tenant: dict, **transport) -> IfoodClient:
    return IfoodClient(
        tenant["ifood"]["client_id"], tenant["ifood"]["client_secret"], base_url=urls["ifood"], **transport
    )


def test_pluggy_v2_cursor_pages_return_every_transaction_once_and_agree_with_v1(sandbox) -> None:
    _, urls, tenant, world = sandbox
    client = pluggy(urls, tenant)
    account_id = client.accounts(tenant["pluggy"]["item_ids"][0])[0]["id"]
    v2_pages = list(client.transactions(account_id, FIRST, LAST))
    v2 = [t["id"] for page in v2_pages for t in page]
    v1 = [t["id"] for page in client.transactions_v1(account_id, FIRST, LAST, page_size=200) for t in page]
    ledger = world.ledgers[account_id]
    posted = [ledger.transaction_id(i) for i in range(len(ledger)) if FIRST <= ledger.posting_date(i) <= LAST]
    assert len(v2_pages) > 2, "the world should be big enough to need several pages"
    assert v2 == posted, "every transaction posted in the window, once, in Pluggy's (date, id) order"
    assert sorted(v1) == sorted(posted)


def test_pluggy_api_key_is_reused_across_pages_and_renewed_when_refused(sandbox) -> None:
    base_url, urls, tenant, _ = sandbox
    client = pluggy(urls, tenant)
    account_id = client.accounts(tenant["pluggy"]["item_ids"][0])[0]["id"]
    httpx.delete(f"{base_url}/_sandbox/requests")
    list(client.transactions(account_id, FIRST, LAST))
    inject(base_url, "pluggy", "/v2/transactions", {"status": 403, "body": {"code": 403, "message": "Forbidden"}})
    list(client.transactions(account_id, FIRST, LAST))
    paths = Counter(entry["path"] for entry in requests_log(base_url))
    assert paths["/pluggy/auth"] == 1, "one renewal after the 403, none while the key was valid"


def test_retry_after_on_429_is_honoured(sandbox) -> None:
    base_url, urls, tenant, _ = sandbox
    sleeps = Sleeps()
    client = pluggy(urls, tenant, sleep=sleeps)
    account_id = client.accounts(tenant["pluggy"]["item_ids"][0])[0]["id"]
    inject(base_url, "pluggy", "/v2/transactions", {"status": 429, "headers": {"Retry-After": "1"}})
    rows = sum(len(page) for page in client.transactions(account_id, FIRST, LAST))
    assert rows > 0
    assert sleeps == [1.0]


def test_server_errors_are_retried_with_growing_backoff(sandbox) -> None:
    base_url, urls, tenant, _ = sandbox
    sleeps = Sleeps()
    client = ifood(urls, tenant, sleep=sleeps, retry=RetryPolicy(backoff_initial=0.05, backoff_max=1))
    merchant = tenant["ifood"]["merchant_ids"][0]
    inject(base_url, "ifood", "/financial/v3.0", {"status": 503}, {"status": 502}, {"status": 500})
    sales = list(client.sales(merchant, FIRST, FIRST))
    assert sales
    assert len(sleeps) == 3
    assert sleeps[0] < 0.05 * 2**1 and sleeps[2] >= 0.05 * 2**2 * 0.5


def test_a_provider_that_keeps_rate_limiting_ends_in_a_clear_error(sandbox) -> None:
    base_url, urls, tenant, _ = sandbox
    client = pluggy(urls, tenant, sleep=lambda s: None, retry=RetryPolicy(max_retries=2))
    account_id = client.accounts(tenant["pluggy"]["item_ids"][0])[0]["id"]
    inject(base_url, "pluggy", "/v2/transactions", *[{"status": 429, "headers": {"Retry-After": "0"}}] * 3)
    with pytest.raises(RateLimitedError, match="answered 429"):
        list(client.transactions(account_id, FIRST, LAST))


def test_wrong_credentials_are_an_authentication_error(sandbox) -> None:
    _, urls, tenant, _ = sandbox
    bad = {
        **tenant,
        "pluggy": {**tenant["pluggy"], "client_secret": "wrong"},
        "ifood": {**tenant["ifood"], "client_secret": "wrong"},
    }
    with pytest.raises(AuthenticationError, match="pluggy refused the credentials"):
        pluggy(urls, bad).accounts(tenant["pluggy"]["item_ids"][0])
    with pytest.raises(AuthenticationError, match="ifood refused the credentials"):
        list(ifood(urls, bad).sales(tenant["ifood"]["merchant_ids"][0], FIRST, LAST))


def test_ifood_token_is_cached_and_pages_cover_every_sale_and_event(sandbox) -> None:
    base_url, urls, tenant, world = sandbox
    httpx.delete(f"{base_url}/_sandbox/requests")
    client = ifood(urls, tenant)
    merchant = tenant["ifood"]["merchant_ids"][0]
    sales = list(client.sales(merchant, FIRST, LAST))
    events = list(client.financial_events(merchant, FIRST, LAST, size=100))
    truth = [row for row in world.ground_truth() if row["merchant_id"] == merchant]
    # Orphan orders have events but the Sales API never returns them (sandbox-world.md).
    sold = [row["order_id"] for row in truth if row["reason"] != "orphan_financial_event"]
    assert sorted(s["id"] for s in sales) == sorted(sold)
    assert len(sold) < len(truth)
    in_window = [e for e in world.facts["ifood"].events_by_merchant[merchant] if FIRST <= e.local_date <= LAST]
    assert sorted((e["reference"]["id"], e["name"], Decimal(e["amount"]["value"])) for e in events) == sorted(
        (e.order_id, e.name, e.amount) for e in in_window
    ), "every ledger entry of the window, once"
    paths = Counter(entry["path"] for entry in requests_log(base_url))
    assert paths["/ifood/authentication/v1.0/oauth/token"] == 1
    assert sum(n for p, n in paths.items() if p.endswith("/financial-events")) == -(-len(in_window) // 100)


def test_providers_yield_records_for_their_raw_tables(sandbox) -> None:
    _, urls, tenant, _ = sandbox
    interval = Interval.for_dates(FIRST, FIRST + timedelta(days=1))
    pluggy_records = list(
        PluggyProvider(
            credentials={
                "client_id": tenant["pluggy"]["client_id"],
                "client_secret": tenant["pluggy"]["client_secret"],
            },
            external_ids={"item_ids": tenant["pluggy"]["item_ids"]},
            base_url=urls["pluggy"],
        ).sync(interval)
    )
    ifood_records = list(
        IfoodProvider(
            credentials={"client_id": tenant["ifood"]["client_id"], "client_secret": tenant["ifood"]["client_secret"]},
            external_ids={"merchant_ids": tenant["ifood"]["merchant_ids"]},
            base_url=urls["ifood"],
        ).sync(interval)
    )
    assert Counter(r.table for r in pluggy_records).keys() == {"pluggy_accounts", "pluggy_transactions"}
    assert Counter(r.table for r in ifood_records).keys() <= set(IfoodProvider.raw_tables)
    assert {"ifood_sales", "ifood_financial_events", "ifood_reconciliation_lines"} <= {r.table for r in ifood_records}
    event_ids = [r.external_id for r in ifood_records if r.table == "ifood_financial_events"]
    assert len(event_ids) == len(set(event_ids)), "synthesised event ids must not collide"
