"""The Stripe client against canned Stripe answers served over a real socket.

Not a fidelity test: the sandbox's Stripe (written apart from this client, from the same facts) is
what the integration tests hold the client to. These tests pin what the client itself decides,
with a small stdlib HTTP server that answers the way `/work/prompts/stripe-client-notes.md`
describes Stripe: newest-first lists cut by `starting_after`, the `created` window, `has_more` as
the only end signal, payout listings whose nets add up to the payout, and Stripe's error envelope.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest

from plugins.providers.base import Interval
from plugins.providers.errors import (
    AuthenticationError,
    IncompleteExtractionError,
    NotLinkedError,
    RateLimitedError,
    RequestRejectedError,
    ResponseShapeError,
)
from plugins.providers.stripe import shapes
from plugins.providers.stripe.client import STRIPE_VERSION, StripeClient, created_bounds
from plugins.providers.stripe.provider import StripeProvider
from plugins.providers.transport import RetryPolicy, TransportOptions

KEY = "sk_test_51QaBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
INTERVAL = Interval.for_dates(date(2026, 10, 1), date(2026, 10, 2))
GTE, LT = created_bounds(INTERVAL)

Answer = tuple[int, dict[str, str], bytes]


class Canned:
    """A Stripe-shaped server: lists per path, payout listings, and queued answers that come first."""

    def __init__(self) -> None:
        self.lists: dict[str, list[dict[str, Any]]] = {}
        self.by_payout: dict[str, list[dict[str, Any]]] = {}
        self.queued: dict[str, list[Answer | Callable[[dict[str, str]], Answer]]] = {}
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []

    def answer(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        self.requests.append((path, query, headers))
        if self.queued.get(path):
            queued = self.queued[path].pop(0)
            return queued(query) if callable(queued) else queued
        if headers.get("authorization") != f"Bearer {KEY}":
            return error(401, "invalid_request_error", None, f"Invalid API Key provided: {KEY[:8]}****{KEY[-4:]}")
        if path not in self.lists:
            return error(404, "invalid_request_error", None, f"Unrecognized request URL (GET: {path}).")
        if "payout" in query:
            records = self.by_payout[query["payout"]]
        else:
            gte, lt = int(query["created[gte]"]), int(query["created[lt]"])
            records = [r for r in self.lists[path] if gte <= r["created"] < lt]
        records = sorted(records, key=lambda r: (r["created"], r["id"]), reverse=True)
        if "starting_after" in query:
            ids = [r["id"] for r in records]
            records = records[ids.index(query["starting_after"]) + 1 :]
        limit = int(query.get("limit", 10))
        page = {"object": "list", "data": records[:limit], "has_more": len(records) > limit, "url": path}
        return 200, {"Content-Type": "application/json", "Request-Id": "req_ok"}, json.dumps(page).encode()


def error(status: int, kind: str, code: str | None, message: str, param: str | None = None) -> Answer:
    body = {"error": {"type": kind, "code": code, "message": message, "param": param}}
    return status, {"Content-Type": "application/json", "Request-Id": "req_8x7Yz"}, json.dumps(body).encode()


@pytest.fixture
def stripe_api() -> Iterator[tuple[Canned, str]]:
    canned = Canned()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            status, headers, body = canned.answer(url.path, query, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield canned, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(base_url: str, waits: Waits | None = None, key: str = KEY) -> StripeClient:
    options = TransportOptions(retry=RetryPolicy(max_retries=2), sleep=waits if waits is not None else Waits())
    return StripeClient(key, base_url=base_url, options=options)


def charge(n: int, created: int) -> dict[str, Any]:
    return {
        "id": f"ch_{n:06d}",
        "object": "charge",
        "amount": 1000 + n,
        "amount_captured": 1000 + n,
        "amount_refunded": 0,
        "balance_transaction": f"txn_ch{n:06d}",
        "captured": True,
        "created": created,
        "currency": "brl",
        "paid": True,
        "payment_intent": f"pi_{n:06d}",
        "refunded": False,
        "status": "succeeded",
    }


def txn(ident: str, net: int, *, type: str = "charge", source: str | None = None, created: int = GTE) -> dict[str, Any]:
    fee = 39 if type == "charge" else 0
    return {
        "id": ident,
        "object": "balance_transaction",
        "amount": net + fee,
        "available_on": created + 86_400,
        "created": created,
        "currency": "brl",
        "fee": fee,
        "fee_details": [{"amount": fee, "currency": "brl", "type": "stripe_fee"}] if fee else [],
        "net": net,
        "reporting_category": type,
        "source": source,
        "status": "available",
        "type": type,
    }


def payout(ident: str, amount: int, *, automatic: bool = True, status: str = "paid") -> dict[str, Any]:
    return {
        "id": ident,
        "object": "payout",
        "amount": amount,
        "arrival_date": GTE + 86_400,
        "automatic": automatic,
        "balance_transaction": f"txn_{ident}",
        "created": GTE + 3600,
        "currency": "brl",
        "method": "standard",
        "status": status,
        "type": "bank_account",
    }


# --------------------------------------------------------------------------- windows


def test_the_created_window_is_the_interval_in_unix_seconds() -> None:
    start = datetime(2026, 10, 1, 3, tzinfo=UTC)  # midnight in São Paulo
    assert created_bounds(INTERVAL) == (int(start.timestamp()), int(start.timestamp()) + 2 * 86_400)
    fractional = Interval(datetime(2026, 10, 1, 3, 0, 0, 1, tzinfo=UTC), datetime(2026, 10, 1, 4, tzinfo=UTC))
    assert created_bounds(fractional) == (int(start.timestamp()) + 1, int(start.timestamp()) + 3600)


# ------------------------------------------------------------------------ pagination


def test_a_listing_follows_starting_after_until_has_more_is_false(stripe_api: tuple[Canned, str]) -> None:
    canned, base_url = stripe_api
    inside = [charge(n, GTE + n * 60) for n in range(250)]
    canned.lists["/v1/charges"] = [*inside, charge(900, GTE - 1), charge(901, LT)]  # two just outside
    listed = [typed.id for typed, _ in client(base_url).charges(INTERVAL)]
    assert listed == [c["id"] for c in sorted(inside, key=lambda c: c["created"], reverse=True)]
    queries = [query for _, query, _ in canned.requests]
    assert [q.get("starting_after") for q in queries] == [None, "ch_000150", "ch_000050"]
    assert all(q["limit"] == "100" and q["created[gte]"] == str(GTE) and q["created[lt]"] == str(LT) for q in queries)
    headers = canned.requests[0][2]
    assert headers["authorization"] == f"Bearer {KEY}" and headers["stripe-version"] == STRIPE_VERSION


def test_records_keep_the_exact_bytes_stripe_sent(stripe_api: tuple[Canned, str]) -> None:
    canned, base_url = stripe_api
    canned.lists["/v1/charges"] = [charge(1, GTE)]
    [(typed, raw)] = list(client(base_url).charges(INTERVAL))
    assert json.loads(bytes(raw)) == charge(1, GTE) and typed.amount == 1001


def _page(records: list[dict[str, Any]], has_more: bool) -> Answer:
    body = {"object": "list", "data": records, "has_more": has_more, "url": "/v1/charges"}
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


@pytest.mark.parametrize(
    ("answers", "error", "message"),
    [
        ([_page([], True)], IncompleteExtractionError, "says `has_more` but holds no records"),
        (
            [_page([charge(1, GTE)], True), _page([charge(1, GTE)], False)],
            IncompleteExtractionError,
            "'ch_000001' was served twice",
        ),
        ([_page([charge(1, LT)], False)], ResponseShapeError, "outside the requested created"),
        ([_page([charge(n, GTE) for n in range(101)], False)], ResponseShapeError, "more than the limit 100"),
        (
            [(200, {"Content-Type": "application/json"}, b'{"data": [], "has_more": false}')],
            ResponseShapeError,
            "`object`",
        ),
        (
            [(200, {"Content-Type": "application/json"}, b'{"object": "list", "data": []}')],
            ResponseShapeError,
            "`has_more`",
        ),
        (
            [_page([{**charge(1, GTE), "amount": "131,8,9"}], False)],
            ResponseShapeError,
            r"Expected `int`, got `str` - at `\$.data\[0\].amount` \(record data\[0\], id 'ch_000001'",
        ),
    ],
)
def test_a_listing_that_cannot_be_trusted_fails(
    stripe_api: tuple[Canned, str], answers: list[Answer], error: type[Exception], message: str
) -> None:
    canned, base_url = stripe_api
    canned.lists["/v1/charges"] = []
    canned.queued["/v1/charges"] = list(answers)
    with pytest.raises(error, match=message):
        list(client(base_url).charges(INTERVAL))


# ---------------------------------------------------------------------------- payouts


def test_a_payouts_transactions_must_net_to_its_amount(stripe_api: tuple[Canned, str]) -> None:
    canned, base_url = stripe_api
    canned.lists["/v1/balance_transactions"] = []
    settled = [txn("txn_a", 961, source="ch_a"), txn("txn_b", -500, type="refund", source="re_b")]
    own = txn("txn_po_1", -461, type="payout", source="po_1")
    stripe = client(base_url)
    for listed in (settled, [own, *settled]):  # with or without the payout's own transaction
        canned.by_payout["po_1"] = listed
        items = stripe.payout_transactions(stripe_shape(payout("po_1", 461)))
        assert [t.id for t, _ in items] == [t["id"] for t in sorted(listed, key=lambda t: t["id"], reverse=True)]
    canned.by_payout["po_1"] = settled[:1]
    with pytest.raises(IncompleteExtractionError, match="add up to 961, but the payout states an amount of 461"):
        stripe.payout_transactions(stripe_shape(payout("po_1", 461)))
    # A failed payout's listing is not held to its amount.
    assert stripe.payout_transactions(stripe_shape(payout("po_1", 461, status="failed")))
    assert canned.requests[-1][1] == {"payout": "po_1", "limit": "100"}, "no created filter on a payout's listing"


def stripe_shape(obj: dict[str, Any]) -> shapes.Payout:
    return msgspec.json.decode(json.dumps(obj), type=shapes.Payout)


def test_sync_lands_every_table_and_links_automatic_payouts_to_their_transactions(
    stripe_api: tuple[Canned, str],
) -> None:
    canned, base_url = stripe_api
    canned.lists = {
        "/v1/charges": [charge(1, GTE + 10)],
        "/v1/refunds": [],
        "/v1/disputes": [],
        "/v1/balance_transactions": [txn("txn_ch000001", 961, source="ch_000001", created=GTE + 10)],
        "/v1/payouts": [payout("po_auto", 961), payout("po_manual", 5000, automatic=False)],
    }
    canned.by_payout["po_auto"] = [txn("txn_ch000001", 961, source="ch_000001", created=GTE + 10)]
    provider = StripeProvider(
        credentials={"secret_key": KEY}, external_ids={"payout_documents": ["12345678000190"]}, base_url=base_url
    )
    landed = [(r.table, r.external_id, dict(r.keys)) for r in provider.sync(INTERVAL)]
    provider.close()
    assert landed == [
        ("stripe_charges", "ch_000001", {"payment_intent": "pi_000001"}),
        ("stripe_balance_transactions", "txn_ch000001", {"source_id": "ch_000001"}),
        ("stripe_payouts", "po_manual", {"status": "paid"}),
        ("stripe_payouts", "po_auto", {"status": "paid"}),
        ("stripe_payout_transactions", "po_auto:txn_ch000001", {"payout_id": "po_auto"}),
    ]
    assert [q.get("payout") for path, q, _ in canned.requests if path == "/v1/balance_transactions"] == [
        None,
        "po_auto",
    ], "a manual payout has no transactions listing (Stripe answers 400)"


# ----------------------------------------------------------------------------- errors


def test_a_wrong_key_is_an_authentication_error_that_names_no_key(stripe_api: tuple[Canned, str]) -> None:
    canned, base_url = stripe_api
    canned.lists["/v1/charges"] = []
    wrong = "sk_test_51QaWrongWrongWrong0000000000"
    with pytest.raises(AuthenticationError) as raised:
        list(client(base_url, key=wrong).charges(INTERVAL))
    message = str(raised.value)
    assert message.startswith("stripe refused the credentials (401) on GET /v1/charges: invalid_request_error")
    assert "request req_8x7Yz" in message and not raised.value.retryable
    assert KEY not in message and wrong not in message and KEY[:12] not in (raised.value.body or "")
    assert len(canned.requests) == 1, "a refused key is not retried"


@pytest.mark.parametrize(
    ("answer", "expected", "message"),
    [
        (
            error(403, "invalid_request_error", None, "The provided key 'rk_test_***' does not have the required permissions for this endpoint on account 'acct_1'."),
            AuthenticationError,
            r"^stripe refused the credentials \(403\)",
        ),
        (
            error(403, "invalid_request_error", "account_invalid", "The provided key does not have access to account 'acct_9'."),
            NotLinkedError,
            "account is not reachable",
        ),
        (
            error(404, "invalid_request_error", "resource_missing", "No such payout: 'po_x'; a similar object exists in test mode, but a live mode key was used to make this request.", "payout"),
            NotLinkedError,
            "payout po_x is not reachable with these credentials",
        ),
        (
            error(404, "invalid_request_error", None, "Unrecognized request URL (GET: /v1/balance_transactions)."),
            RequestRejectedError,
            r"^stripe: GET /v1/balance_transactions answered 404: invalid_request_error: Unrecognized",
        ),
        (
            (404, {"Content-Type": "text/html"}, b"<html><body>nginx</body></html>"),
            ResponseShapeError,
            r"answered 404 with a body that is not Stripe's error envelope, so not its documented 404 \(text/html",
        ),
        (
            error(400, "invalid_request_error", "parameter_invalid_integer", "Invalid integer: abc", "limit"),
            RequestRejectedError,
            r"^stripe: GET /v1/balance_transactions answered 400: invalid_request_error/parameter_invalid_integer: "
            r"Invalid integer: abc \(param limit; request req_8x7Yz\)",
        ),
        (
            error(400, "invalid_request_error", "rate_limit", "Too many requests"),
            RateLimitedError,
            "answered 400 rate_limit",
        ),
    ],
)  # fmt: skip
def test_stripes_error_answers_are_classified(
    stripe_api: tuple[Canned, str], answer: Answer, expected: type[Exception], message: str
) -> None:
    canned, base_url = stripe_api
    canned.lists["/v1/balance_transactions"] = []
    canned.by_payout["po_x"] = []
    canned.queued["/v1/balance_transactions"] = [answer]
    with pytest.raises(expected, match=message) as raised:
        client(base_url).payout_transactions(stripe_shape(payout("po_x", 0)))
    assert type(raised.value) is expected
    assert len(canned.requests) == 1, "none of these is retried"


def test_429_and_5xx_are_retried_honouring_retry_after(stripe_api: tuple[Canned, str]) -> None:
    canned, base_url = stripe_api
    canned.lists["/v1/charges"] = [charge(1, GTE)]
    limited = error(429, "invalid_request_error", "rate_limit", "Too many requests")
    canned.queued["/v1/charges"] = [
        (429, {**limited[1], "Retry-After": "7"}, limited[2]),
        error(500, "api_error", None, "Something went wrong on Stripe's end."),
    ]
    waits = Waits()
    assert [t.id for t, _ in client(base_url, waits).charges(INTERVAL)] == ["ch_000001"]
    assert waits[0] == 7.0 and len(waits) == 2
