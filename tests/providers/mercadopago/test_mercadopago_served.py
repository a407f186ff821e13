"""The Mercado Pago client and provider against the served sandbox, over real sockets.

The sandbox serves a world whose Mercado Pago fates are turned up (refunds after the release,
chargebacks, manual reviews, expired PIX, card money released in three days) so every path of the
client is on the wire. What each test expects comes from the world's own facts
(`World.facts["mercadopago"]`: the records the fake API renders and the rules' generic facts), read
independently of the client: exact ids and counts, money to the cent (Decimals from the landed
payload bytes), the day's releases (payouts) computed from what landed with the rules' Mercado
Pago column (docs/payment-reconciliation-rules.md). Faults come from the sandbox's control surface
(`sandbox/core/control.py`), so what is exercised is the transport's behaviour on the wire.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import pytest

from plugins.providers.base import BUSINESS_TZ, Interval, RawRecord
from plugins.providers.errors import (
    AuthenticationError,
    IncompleteExtractionError,
    NotLinkedError,
    ProviderError,
    RateLimitedError,
    ResponseShapeError,
)
from plugins.providers.mercadopago import client as mp_client
from plugins.providers.mercadopago.client import PAGE_LIMIT, MercadoPagoClient
from plugins.providers.mercadopago.provider import PAYMENTS_TABLE, MercadoPagoProvider
from plugins.providers.transport import RetryPolicy, TransportOptions, decode_object
from sandbox.options import ServerOptions
from sandbox.providers.mercadopago.facts import MercadoPagoFacts
from sandbox.providers.mercadopago.records import Payment
from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig

from ..served_clients import Sleeps, clear_requests, inject, requests_log, without_faults

NAME = "mercadopago"
SEARCH = "/v1/payments/search"
CONFIG = WorldConfig(
    seed=11,
    tenants=1,
    stores_per_tenant=2,
    days=10,
    orders_per_day=10,
    bank_noise_per_day=20,
    refund_rate=0.25,
    refund_after_payout_share=0.7,
    chargeback_rate=0.1,
    payment_failed_rate=0.1,
    payment_expired_rate=0.15,
    mercadopago_review_rate=0.2,
    mercadopago_card_release_days=3,
)
FIRST, LAST = CONFIG.start, CONFIG.start + timedelta(days=CONFIG.days - 1)
WHOLE = Interval.for_dates(FIRST, LAST)
PASS = {"delay_s": 0.001}  # a queued "fault" that lets the sandbox answer as it would
# The rules' canonical status of each Mercado Pago `status` (docs/payment-reconciliation-rules.md).
CANONICAL = {
    "approved": "paid",
    "refunded": "refunded",
    "charged_back": "charged_back",
    "pending": "pending",
    "in_process": "pending",
    "authorized": "pending",
    "cancelled": "expired",
    "rejected": "failed",
}


@dataclass(frozen=True)
class Served:
    base_url: str
    url: str  # Mercado Pago's base URL
    accounts: list[dict[str, Any]]  # the tenant's credentials, one entry per store account
    world: World

    @property
    def facts(self) -> MercadoPagoFacts:
        facts = self.world.facts[NAME]
        assert isinstance(facts, MercadoPagoFacts)
        return facts

    def payments(self, entry: dict[str, Any]) -> list[Payment]:
        return self.facts.payments_by_account[entry["name"]]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    world = World(CONFIG)
    base_url, stop = start_in_thread(world, port=0, options=ServerOptions().with_rate_limit(None))
    creds = world.credentials(base_url)
    try:
        yield Served(base_url, creds["base_urls"][NAME], creds["tenants"][0][NAME]["accounts"], world)
    finally:
        stop()


@pytest.fixture(autouse=True)
def no_faults(served: Served) -> Iterator[None]:
    yield from without_faults(served.base_url)


def provider(
    served: Served, entry: dict[str, Any], *, token: str | None = None, **transport: Any
) -> MercadoPagoProvider:
    return MercadoPagoProvider(
        credentials={"access_token": token or entry["access_token"]},
        external_ids={"payout_documents": entry["payout_documents"]},
        base_url=served.url,
        transport=TransportOptions(**transport),
    )


def sync(served: Served, entry: dict[str, Any], interval: Interval = WHOLE, **kwargs: Any) -> list[RawRecord]:
    with_provider = provider(served, entry, **kwargs)
    try:
        return list(with_provider.sync(interval))
    finally:
        with_provider.close()


def landed(records: list[RawRecord]) -> dict[int, dict[str, Any]]:
    """Each landed payment decoded from its exact bytes (amounts as the Decimals MP wrote), by id."""
    payloads = {int(r.external_id): decode_object(r.payload) for r in records}
    assert len(payloads) == len(records), "a payment landed twice"
    return payloads


def instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def sp_date(text: str) -> date:
    return datetime.fromisoformat(text).astimezone(BUSINESS_TZ).date()


def in_window(moment: datetime | None, interval: Interval) -> bool:
    return moment is not None and interval.start <= moment < interval.end


# ------------------------------------------------------------------------ the whole world


def test_a_sync_over_the_worlds_days_lands_every_payment_once_as_the_world_holds_it(served: Served) -> None:
    for entry in served.accounts:
        records = sync(served, entry)
        mine = {p.payment_id: p for p in served.payments(entry)}
        assert {r.table for r in records} == {PAYMENTS_TABLE} == set(MercadoPagoProvider.raw_tables)
        payloads = landed(records)
        assert sorted(payloads) == sorted(mine), "every payment of the account, each once"
        assert len(mine) > 2 * PAGE_LIMIT // 2, "several pages"
        for record in records:
            assert record.keys == {"external_reference": mine[int(record.external_id)].order.order_id}
        generic = {f.payment_id: f for f in served.facts.payments if f.integration == entry["name"]}
        assert sorted(generic) == sorted(str(i) for i in payloads)
        for payment_id, payload in payloads.items():
            fact, payment = generic[str(payment_id)], mine[payment_id]
            fees = payload["fee_details"]
            gross = payload["transaction_amount"]
            fee = sum((f["amount"] for f in fees if f["type"] != "application_fee"), Decimal(0))
            split = sum((f["amount"] for f in fees if f["type"] == "application_fee"), Decimal(0))
            assert isinstance(gross, Decimal) and gross == fact.gross == payment.gross
            assert (fee, split) == (fact.fee, fact.split_withheld), payment_id
            assert CANONICAL[payload["status"]] == fact.status
            if fact.status in ("paid", "refunded", "charged_back"):
                net = payload["transaction_details"]["net_received_amount"]
                assert net == gross - fee - split == payment.net, "MP's stated net is the computed one, to the cent"
                assert sp_date(payload["money_release_date"]) == fact.expected_release
            assert instant(payload["date_approved"]) == fact.paid_at
            refunded_at = max((instant(r["date_created"]) for r in payload["refunds"]), default=None)
            assert refunded_at == fact.refunded_at
            assert sum((r["amount"] for r in payload["refunds"]), Decimal(0)) == payload["transaction_amount_refunded"]
            assert payload["external_reference"] == fact.order.order_id
            assert payload["metadata"]["product_id"] == fact.order.product_id
            assert payload["installments"] == fact.installments
            assert instant(payload["date_last_updated"]) == payment.last_updated


def test_the_days_releases_computed_from_what_landed_are_the_worlds_payouts_to_the_cent(served: Served) -> None:
    """The rules' Mercado Pago payout: Σ net released on R (R < as-of, not refunded on or before R)
    − refunds dated R of payments released before it. Every one of them, from the landed payments."""
    as_of = served.world.as_of
    for entry in served.accounts:
        payloads = landed(sync(served, entry))
        payouts: dict[date, Decimal] = Counter()  # type: ignore[assignment]
        released: list[dict[str, Any]] = []
        for p in payloads.values():
            if CANONICAL[p["status"]] in ("pending", "failed", "expired") or not p["money_release_date"]:
                continue
            release = sp_date(p["money_release_date"])
            refunded = [sp_date(r["date_created"]) for r in p["refunds"]]
            if release < as_of and not any(day <= release for day in refunded):
                fees = sum((f["amount"] for f in p["fee_details"]), Decimal(0))
                payouts[release] += p["transaction_amount"] - fees
                released.append(p)
        for p in released:
            for refund in p["refunds"]:
                payouts[sp_date(refund["date_created"])] -= refund["amount"]
        expected = {x.date: x.amount for x in served.facts.payouts if x.integration == entry["name"]}
        assert expected and dict(payouts) == expected
        assert any(p["refunds"] for p in released), "the world holds refunds after the release"


# --------------------------------------------------------------------------- date filters


@pytest.mark.parametrize("offset", range(0, 8, 2))
def test_a_few_days_land_exactly_the_payments_updated_or_released_in_them(served: Served, offset: int) -> None:
    interval = Interval.for_dates(FIRST + timedelta(days=offset), FIRST + timedelta(days=offset + 2))
    for entry in served.accounts:
        clear_requests(served.base_url)
        payloads = landed(sync(served, entry, interval))
        mine = served.payments(entry)
        updated = {p.payment_id for p in mine if in_window(p.last_updated, interval)}
        released = {p.payment_id for p in mine if p.took_money and in_window(p.release_at, interval)}
        assert set(payloads) == updated | released
        ranges = [parse_qs(e["query"])["range"][0] for e in requests_log(served.base_url) if e["path"].endswith(SEARCH)]
        assert set(ranges) == {"date_last_updated", "money_release_date"}


def test_the_release_pass_brings_payments_whose_last_update_is_elsewhere(served: Served) -> None:
    """A payment released in the window and refunded on a later day was last updated on the refund
    day; only the search by `money_release_date` finds it in the window of its release."""
    found = 0
    for entry in served.accounts:
        for day in range(CONFIG.days):
            interval = Interval.for_dates(FIRST + timedelta(days=day), FIRST + timedelta(days=day))
            elsewhere = {
                p.payment_id
                for p in served.payments(entry)
                if p.took_money and in_window(p.release_at, interval) and not in_window(p.last_updated, interval)
            }
            if not elsewhere:
                continue
            payloads = landed(sync(served, entry, interval))
            assert elsewhere <= set(payloads)
            for payment_id in elsewhere:
                assert payloads[payment_id]["status"] == "refunded", "released, then refunded on a later day"
                assert sp_date(payloads[payment_id]["money_release_date"]) == interval.first_date
            found += len(elsewhere)
    assert found, "the world has releases whose last update is on another day"


def test_a_release_moves_the_sandboxs_last_update_which_the_client_does_not_rely_on(served: Served) -> None:
    """The sandbox's choice (MP says neither way): a released payment not changed since was last
    updated at its release. The client lands it whichever way, by the release pass."""
    payloads = landed(sync(served, served.accounts[0]))
    released = [p for p in payloads.values() if p["money_release_status"] == "released" and p["status"] == "approved"]
    assert released and all(p["date_last_updated"] == p["money_release_date"] for p in released)


def test_a_window_with_nothing_in_it_lands_nothing(served: Served) -> None:
    before = Interval.for_dates(FIRST - timedelta(days=30), FIRST - timedelta(days=1))
    assert sync(served, served.accounts[0], before) == []


# ------------------------------------------------------------------------- the wire itself


def test_every_search_asks_mps_documented_query_and_follows_the_offset_to_the_total(served: Served) -> None:
    entry = served.accounts[1]
    clear_requests(served.base_url)
    records = sync(served, entry)
    log = requests_log(served.base_url)
    assert log[0]["path"] == f"/{NAME}/users/me", "the account is checked first"
    searches = [(e, {k: v[0] for k, v in parse_qs(e["query"]).items()}) for e in log if e["path"].endswith(SEARCH)]
    assert all(e["status"] == 200 for e, _ in searches)
    by_pass: dict[str, list[int]] = {}
    for _, query in searches:
        assert query["sort"] == query["range"] and query["criteria"] == "asc" and query["limit"] == str(PAGE_LIMIT)
        assert (query["begin_date"], query["end_date"]) == (
            f"{FIRST.isoformat()}T00:00:00.000-03:00",
            f"{LAST.isoformat()}T23:59:59.999-03:00",
        )
        by_pass.setdefault(query["range"], []).append(int(query["offset"]))
    updated = sum(1 for p in served.payments(entry) if in_window(p.last_updated, WHOLE))
    assert by_pass["date_last_updated"] == list(range(0, updated, PAGE_LIMIT)), "offset + results until the total"
    assert list(by_pass) == ["date_last_updated", "money_release_date"]
    assert len(records) == len(served.payments(entry))


def test_the_token_travels_only_in_the_authorization_header(served: Served) -> None:
    entry = served.accounts[0]
    clear_requests(served.base_url)
    sync(served, entry, Interval.for_dates(FIRST, FIRST))
    assert all(
        entry["access_token"] not in e["query"] and entry["access_token"] not in e["path"]
        for e in requests_log(served.base_url)
    )


def test_users_me_ties_the_token_to_its_accounts_cnpj(served: Served) -> None:
    for entry in served.accounts:
        client = MercadoPagoClient(entry["access_token"], base_url=served.url)
        try:
            me = client.account()
        finally:
            client.close()
        account = served.facts.account_by_name[entry["name"]]
        assert me.id == account.collector_id and me.site_id == "MLB"
        assert me.identification is not None and me.identification.type == "CNPJ"
        assert (
            me.identification.number
            == entry["payout_documents"][0]
            == "".join(c for c in account.store.cnpj if c.isdigit())
        )


def test_a_window_deeper_than_the_offset_cap_is_split_and_still_lands_every_payment_once(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MP answers at most 10000 deep; with the cap lowered to 20 the world's windows are "too deep"
    and are split at their midpoint until each fits, and the halves add up to what was stated."""
    entry = served.accounts[0]
    expected = sorted(p.payment_id for p in served.payments(entry))
    monkeypatch.setattr(mp_client, "OFFSET_CAP", 20)
    clear_requests(served.base_url)
    assert sorted(landed(sync(served, entry))) == expected
    offsets = [
        int(parse_qs(e["query"])["offset"][0]) for e in requests_log(served.base_url) if e["path"].endswith(SEARCH)
    ]
    assert max(offsets) < 20 and len(offsets) > 6, "narrower windows, never deeper than the cap"


# ------------------------------------------------------------------------------- refusals


def test_a_wrong_token_is_an_authentication_error_on_the_first_call_without_retries(served: Served) -> None:
    entry = served.accounts[0]
    clear_requests(served.base_url)
    bad = entry["access_token"][:-1] + ("0" if entry["access_token"][-1] != "0" else "1")
    with pytest.raises(AuthenticationError) as raised:
        sync(served, entry, token=bad)
    assert str(raised.value) == (
        "mercadopago refused the credentials (401) on GET /users/me: unauthorized: invalid access token"
    )
    assert not raised.value.retryable and bad not in str(raised.value)
    assert len(requests_log(served.base_url)) == 1, "a refused token is not retried"


def test_a_mistyped_payout_document_is_not_linked_naming_it(served: Served) -> None:
    entry = served.accounts[0]
    wrong = entry["payout_documents"][0][:-1] + ("0" if entry["payout_documents"][0][-1] != "0" else "1")
    other = served.accounts[1]["payout_documents"][0]
    for documents in ([wrong], [other], [entry["payout_documents"][0], wrong]):
        with pytest.raises(NotLinkedError) as raised:
            sync(served, {**entry, "payout_documents": documents})
        named = [d for d in documents if d != entry["payout_documents"][0]]
        assert f"payout document {', '.join(named)} is not the document" in str(raised.value)
        assert not raised.value.retryable


def test_a_403_from_mps_policy_layer_is_an_account_not_reachable(served: Served) -> None:
    policy = {
        "code": "PA_UNAUTHORIZED_RESULT_FROM_POLICIES",
        "blocked_by": "PolicyAgent",
        "message": "At least one policy returned UNAUTHORIZED.",
        "status": 403,
    }
    inject(served.base_url, NAME, SEARCH, {"status": 403, "body": policy})
    with pytest.raises(NotLinkedError, match=r"not reachable for GET /v1/payments/search .*PA_UNAUTHORIZED"):
        sync(served, served.accounts[0])


def test_a_proxys_403_page_is_retried_once_then_refused(served: Served) -> None:
    page = {"status": 403, "raw_body": "<html>Forbidden</html>", "content_type": "text/html"}
    inject(served.base_url, NAME, SEARCH, page, page)
    with pytest.raises(AuthenticationError):
        sync(served, served.accounts[0], sleep=Sleeps())
    inject(served.base_url, NAME, SEARCH, page)
    assert sync(served, served.accounts[0], Interval.for_dates(FIRST, FIRST), sleep=Sleeps()), "one is absorbed"


def test_mps_404_on_the_account_is_not_linked_and_on_the_search_is_a_plain_failure(served: Served) -> None:
    inject(served.base_url, NAME, "/users/me", {"status": 404})  # the sandbox's own MP error envelope
    with pytest.raises(NotLinkedError, match="was not found"):
        sync(served, served.accounts[0])
    inject(served.base_url, NAME, SEARCH, *[{"status": 404}] * 3)
    with pytest.raises(ProviderError) as raised:
        sync(served, served.accounts[0], retry=RetryPolicy(max_retries=2), sleep=Sleeps())
    assert type(raised.value) is not NotLinkedError and "404" in str(raised.value)


def test_retry_after_on_429_is_honoured_and_a_429_that_stays_is_rate_limited(served: Served) -> None:
    sleeps = Sleeps()
    inject(served.base_url, NAME, SEARCH, {"status": 429, "headers": {"Retry-After": "3"}})
    assert sync(served, served.accounts[1], Interval.for_dates(FIRST, FIRST), sleep=sleeps)
    assert sleeps == [3.0]
    inject(served.base_url, NAME, SEARCH, *[{"status": 429, "headers": {"Retry-After": "0"}}] * 3)
    with pytest.raises(RateLimitedError, match="answered 429"):
        sync(served, served.accounts[1], retry=RetryPolicy(max_retries=2), sleep=Sleeps())


def test_a_page_that_moved_while_paging_fails_whole(served: Served) -> None:
    """A total that changes between pages, or a page that is not the slice asked for: payments
    were missed or doubled, so nothing of the interval may land."""
    entry = served.accounts[0]
    inject(served.base_url, NAME, SEARCH, PASS, {"corrupt": {"path": "paging.total", "value": 7}})
    with pytest.raises(IncompleteExtractionError, match="states a total of 7"):
        sync(served, entry)
    inject(served.base_url, NAME, SEARCH, PASS, {"corrupt": {"path": "paging.offset", "value": 0}})
    with pytest.raises(IncompleteExtractionError, match="asked for offset 50, got the page at offset 0"):
        sync(served, entry)


def test_a_payment_outside_the_window_asked_for_is_not_mps_answer(served: Served) -> None:
    inject(
        served.base_url,
        NAME,
        SEARCH,
        {"corrupt": {"path": "date_last_updated", "value": "2020-01-01T00:00:00.000-04:00", "nth": 2}},
    )
    with pytest.raises(ResponseShapeError, match="outside the range asked for"):
        sync(served, served.accounts[0])
