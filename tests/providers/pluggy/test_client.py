"""The Pluggy client and provider against the sandbox over real sockets: paging, auth, retries."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from plugins.providers.base import Interval
from plugins.providers.errors import AuthenticationError, RateLimitedError
from plugins.providers.pluggy.client import PluggyClient
from plugins.providers.pluggy.provider import PluggyProvider
from plugins.providers.transport import RetryPolicy

from ..served_clients import FIRST, LAST, Sleeps, clear_requests, inject, requests_log, serve_world, without_faults


@pytest.fixture(scope="module")
def sandbox():
    yield from serve_world()


@pytest.fixture(autouse=True)
def no_faults(sandbox):
    yield from without_faults(sandbox[0])


def pluggy(urls: dict, tenant: dict, **transport) -> PluggyClient:
    return PluggyClient(
        tenant["pluggy"]["client_id"], tenant["pluggy"]["client_secret"], base_url=urls["pluggy"], **transport
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
    clear_requests(base_url)
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


def test_a_provider_that_keeps_rate_limiting_ends_in_a_clear_error(sandbox) -> None:
    base_url, urls, tenant, _ = sandbox
    client = pluggy(urls, tenant, sleep=lambda s: None, retry=RetryPolicy(max_retries=2))
    account_id = client.accounts(tenant["pluggy"]["item_ids"][0])[0]["id"]
    inject(base_url, "pluggy", "/v2/transactions", *[{"status": 429, "headers": {"Retry-After": "0"}}] * 3)
    with pytest.raises(RateLimitedError, match="answered 429"):
        list(client.transactions(account_id, FIRST, LAST))


def test_wrong_credentials_are_an_authentication_error(sandbox) -> None:
    _, urls, tenant, _ = sandbox
    bad = {**tenant, "pluggy": {**tenant["pluggy"], "client_secret": "wrong"}}
    with pytest.raises(AuthenticationError, match="pluggy refused the credentials"):
        pluggy(urls, bad).accounts(tenant["pluggy"]["item_ids"][0])


def test_the_provider_yields_records_for_its_raw_tables(sandbox) -> None:
    _, urls, tenant, _ = sandbox
    interval = Interval.for_dates(FIRST, FIRST + timedelta(days=1))
    records = list(
        PluggyProvider(
            credentials={
                "client_id": tenant["pluggy"]["client_id"],
                "client_secret": tenant["pluggy"]["client_secret"],
            },
            external_ids={"item_ids": tenant["pluggy"]["item_ids"]},
            base_url=urls["pluggy"],
        ).sync(interval)
    )
    assert Counter(r.table for r in records).keys() == {"pluggy_accounts", "pluggy_transactions"}
    assert Counter(r.table for r in records).keys() == set(PluggyProvider.raw_tables)
    assert all(r.keys[PluggyProvider.raw_tables[r.table]] for r in records), "every record carries its key"
