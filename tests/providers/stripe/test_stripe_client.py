"""What the Stripe client decides, against the sandbox's Stripe served over a real socket.

Paging by `starting_after` until `has_more: false`, the `created` window, records kept as the exact
bytes served, the checks a listing is held to (it states no totals), a payout's transactions netting
to its amount, manual payouts left without a listing, and Stripe's error envelope classified. The
sandbox's world gives the ordinary answers; what Stripe would rarely say (a page that says more but
holds nothing, a record served twice, an error with a given code) is queued through the sandbox's
fault injection (sandbox/core/control.py) with Stripe's own bodies. No check here needs a server of
its own: these tests used to run against a stand-in of Stripe, which the served sandbox replaces.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
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
from plugins.providers.stripe.client import created_bounds

from ..served_clients import Sleeps, clear_requests, inject, requests_log
from .conftest import StripeSandbox

pytestmark = pytest.mark.usefixtures("no_faults")

REQUEST_ID = "req_8x7Yz"
JSON = {"Request-Id": REQUEST_ID}


def stripe_get(sandbox: StripeSandbox, path: str, account: int = 0, **params: Any) -> dict[str, Any]:
    """What the sandbox's Stripe answers, read directly (to build answers and expectations from)."""
    key = sandbox.accounts[account]["secret_key"]
    reply = httpx.get(f"{sandbox.url}{path}", params=params, headers={"Authorization": f"Bearer {key}"})
    assert reply.status_code == 200, reply.text
    return reply.json()


def all_charges(sandbox: StripeSandbox) -> list[dict[str, Any]]:
    gte, lt = created_bounds(sandbox.everything)
    found: list[dict[str, Any]] = []
    while True:
        after = {"starting_after": found[-1]["id"]} if found else {}
        page = stripe_get(sandbox, "/v1/charges", limit=100, **{"created[gte]": gte, "created[lt]": lt}, **after)
        found += page["data"]
        if not page["has_more"]:
            return found


def page(records: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"status": 200, "body": {"object": "list", "data": records, "has_more": has_more, "url": "/v1/charges"}}


def stripe_paths(sandbox: StripeSandbox, path: str) -> list[dict[str, list[str]]]:
    return [parse_qs(r["query"]) for r in requests_log(sandbox.base_url) if r["path"] == f"/stripe{path}"]


# --------------------------------------------------------------------------- windows


def test_the_created_window_is_the_interval_in_unix_seconds() -> None:
    start = datetime(2026, 10, 1, 3, tzinfo=UTC)  # midnight in São Paulo
    interval = Interval.for_dates(datetime(2026, 10, 1).date(), datetime(2026, 10, 2).date())
    assert created_bounds(interval) == (int(start.timestamp()), int(start.timestamp()) + 2 * 86_400)
    fractional = Interval(datetime(2026, 10, 1, 3, 0, 0, 1, tzinfo=UTC), datetime(2026, 10, 1, 4, tzinfo=UTC))
    assert created_bounds(fractional) == (int(start.timestamp()) + 1, int(start.timestamp()) + 3600)


# ------------------------------------------------------------------------ pagination


def test_a_listing_follows_starting_after_until_has_more_is_false(stripe_sandbox: StripeSandbox) -> None:
    facts = stripe_sandbox.facts
    account_id = facts.account_by_key[stripe_sandbox.accounts[0]["secret_key"]].account_id
    clear_requests(stripe_sandbox.base_url)
    listed = [typed.id for typed, _ in stripe_sandbox.client(0).charges(stripe_sandbox.everything)]
    newest_first = sorted(
        (c for c in facts.charges if c.account_id == account_id), key=lambda c: (c.created, c.charge_id)
    )
    assert listed == [c.charge_id for c in reversed(newest_first)], "every charge once, newest first"
    gte, lt = created_bounds(stripe_sandbox.everything)
    queries = stripe_paths(stripe_sandbox, "/v1/charges")
    assert [q.get("starting_after") for q in queries] == [None, [listed[99]]]
    assert all(
        q["limit"] == ["100"] and q["created[gte]"] == [str(gte)] and q["created[lt]"] == [str(lt)] for q in queries
    )


def test_records_keep_the_exact_bytes_stripe_sent(stripe_sandbox: StripeSandbox) -> None:
    typed, raw = next(iter(stripe_sandbox.client(0).charges(stripe_sandbox.everything)))
    assert msgspec.json.decode(bytes(raw)) == stripe_get(stripe_sandbox, f"/v1/charges/{typed.id}")
    assert type(typed.amount) is int


Faults = Callable[[StripeSandbox], list[dict[str, Any]]]


@pytest.mark.parametrize(
    ("faults", "error", "message"),
    [
        (lambda s: [page([], True)], IncompleteExtractionError, "says `has_more` but holds no records"),
        (
            lambda s: [page(all_charges(s)[:1], True), page(all_charges(s)[:1], False)],
            IncompleteExtractionError,
            r"'ch_\w+' was served twice",
        ),
        (
            lambda s: [{"corrupt": {"path": "created", "value": created_bounds(s.everything)[1], "nth": 0}}],
            ResponseShapeError,
            "outside the requested created",
        ),
        (lambda s: [page(all_charges(s)[:101], False)], ResponseShapeError, "a page of 101 records, more than the limit 100"),
        (lambda s: [{"corrupt": {"path": "object", "delete": True}}], ResponseShapeError, "missing required field `object`"),
        (lambda s: [{"corrupt": {"path": "has_more", "delete": True}}], ResponseShapeError, "missing required field `has_more`"),
        (
            lambda s: [{"corrupt": {"path": "amount", "value": "131,8,9", "nth": 0}}],
            ResponseShapeError,
            r"Expected `int`, got `str` - at `\$.data\[0\].amount` \(record data\[0\], id 'ch_\w+'",
        ),
    ],
)  # fmt: skip
def test_a_listing_that_cannot_be_trusted_fails(
    stripe_sandbox: StripeSandbox, faults: Faults, error: type[Exception], message: str
) -> None:
    inject(stripe_sandbox.base_url, "stripe", "/v1/charges", *faults(stripe_sandbox))
    with pytest.raises(error, match=message) as raised:
        list(stripe_sandbox.client(0).charges(stripe_sandbox.everything))
    assert type(raised.value) is error


# ---------------------------------------------------------------------------- payouts


def first_payout(sandbox: StripeSandbox, account: int = 0) -> shapes.Payout:
    return next(payout for payout, _ in sandbox.client(account).payouts(sandbox.everything))


def test_a_payouts_transactions_must_net_to_its_amount(stripe_sandbox: StripeSandbox) -> None:
    """With or without the payout's own transaction listed (the sandbox lists it, as Stripe does),
    a settling payout's transactions net to its amount; one missing makes the listing incomplete,
    except for a failed payout, whose listing is not held to its amount."""
    client = stripe_sandbox.client(0)
    payout = first_payout(stripe_sandbox)
    served = stripe_get(stripe_sandbox, "/v1/balance_transactions", payout=payout.id, limit=100)
    own = [t for t in served["data"] if t["id"] == payout.balance_transaction]
    settled = [t for t in served["data"] if t["id"] != payout.balance_transaction]
    assert own and settled, "the sandbox lists the payout's own transaction with the ones it paid out"
    clear_requests(stripe_sandbox.base_url)
    assert [t.id for t, _ in client.payout_transactions(payout)] == [t["id"] for t in served["data"]]
    assert stripe_paths(stripe_sandbox, "/v1/balance_transactions") == [{"payout": [payout.id], "limit": ["100"]}]
    without_own = {**served, "data": settled}
    inject(stripe_sandbox.base_url, "stripe", "/v1/balance_transactions", {"status": 200, "body": without_own})
    assert [t.id for t, _ in client.payout_transactions(payout)] == [t["id"] for t in settled]
    short = {
        **served,
        "data": served["data"][1:] if served["data"][0] is not own[0] else served["data"][:1] + served["data"][2:],
    }
    kept = sum(t["net"] for t in short["data"] if t["id"] != payout.balance_transaction)
    inject(stripe_sandbox.base_url, "stripe", "/v1/balance_transactions", {"status": 200, "body": short})
    with pytest.raises(
        IncompleteExtractionError, match=f"add up to {kept}, but the payout states an amount of {payout.amount}"
    ):
        client.payout_transactions(payout)
    inject(stripe_sandbox.base_url, "stripe", "/v1/balance_transactions", {"status": 200, "body": short})
    assert client.payout_transactions(msgspec.structs.replace(payout, status="failed"))


def test_a_manual_payout_lands_without_a_transactions_listing(stripe_sandbox: StripeSandbox) -> None:
    """Stripe filters balance transactions by payout for automatic payouts only (stripe-python's
    `payout` list param), so the client never asks for a manual payout's."""
    manual = first_payout(stripe_sandbox)
    inject(stripe_sandbox.base_url, "stripe", "/v1/payouts", {"corrupt": {"path": "automatic", "value": False}})
    clear_requests(stripe_sandbox.base_url)
    provider = stripe_sandbox.provider(0)
    landed = list(provider.sync(stripe_sandbox.everything))
    provider.close()
    payouts = {r.external_id for r in landed if r.table == "stripe_payouts"}
    linked = {r.keys["payout_id"] for r in landed if r.table == "stripe_payout_transactions"}
    assert manual.id in payouts and linked == payouts - {manual.id}
    asked = [q["payout"][0] for q in stripe_paths(stripe_sandbox, "/v1/balance_transactions") if "payout" in q]
    assert sorted(asked) == sorted(payouts - {manual.id})


# ----------------------------------------------------------------------------- errors


def error(status: int, kind: str, code: str | None, message: str, param: str | None = None) -> dict[str, Any]:
    body = {"error": {"type": kind, "code": code, "message": message, "param": param}}
    return {"status": status, "body": body, "headers": JSON}


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
            error(404, "invalid_request_error", "resource_missing", "No such payout: 'po_x'", "payout"),
            NotLinkedError,
            r"payout po_\w+ is not reachable with these credentials",
        ),
        (
            error(404, "invalid_request_error", None, "Unrecognized request URL (GET: /v1/balance_transactions)."),
            RequestRejectedError,
            r"^stripe: GET /v1/balance_transactions answered 404: invalid_request_error: Unrecognized",
        ),
        (
            {"status": 404, "raw_body": "<html><body>nginx</body></html>", "content_type": "text/html"},
            ResponseShapeError,
            r"answered 404 with a body that is not Stripe's error envelope, so not its documented 404 \(text/html",
        ),
        (
            error(400, "invalid_request_error", "parameter_invalid_integer", "Invalid integer: abc", "limit"),
            RequestRejectedError,
            r"^stripe: GET /v1/balance_transactions answered 400: invalid_request_error/parameter_invalid_integer: "
            rf"Invalid integer: abc \(param limit; request {REQUEST_ID}\)",
        ),
        (
            error(400, "invalid_request_error", "rate_limit", "Too many requests"),
            RateLimitedError,
            "answered 400 rate_limit",
        ),
    ],
)  # fmt: skip
def test_stripes_error_answers_are_classified(
    stripe_sandbox: StripeSandbox, answer: dict[str, Any], expected: type[Exception], message: str
) -> None:
    payout = first_payout(stripe_sandbox)
    inject(stripe_sandbox.base_url, "stripe", "/v1/balance_transactions", answer)
    clear_requests(stripe_sandbox.base_url)
    with pytest.raises(expected, match=message) as raised:
        stripe_sandbox.client(0).payout_transactions(payout)
    assert type(raised.value) is expected
    assert len(stripe_paths(stripe_sandbox, "/v1/balance_transactions")) == 1, "none of these is retried"


def test_a_wrong_key_names_stripes_request_and_no_key(stripe_sandbox: StripeSandbox) -> None:
    key = stripe_sandbox.accounts[0]["secret_key"]
    wrong = key[:-4] + "0000"
    with pytest.raises(AuthenticationError) as raised:
        list(stripe_sandbox.client(0, key=wrong).charges(stripe_sandbox.everything))
    message = str(raised.value)
    assert message.startswith("stripe refused the credentials (401) on GET /v1/charges: invalid_request_error")
    assert "(request req_" in message
    assert wrong not in message and key[:12] not in message and wrong[:12] not in (raised.value.body or "")


def test_429_and_5xx_are_retried_honouring_retry_after(stripe_sandbox: StripeSandbox) -> None:
    expected = [c["id"] for c in all_charges(stripe_sandbox)]
    inject(
        stripe_sandbox.base_url,
        "stripe",
        "/v1/charges",
        {"status": 429, "headers": {"Retry-After": "7"}},
        error(500, "api_error", None, "Something went wrong on Stripe's end."),
    )
    sleeps = Sleeps()
    assert [t.id for t, _ in stripe_sandbox.client(0, sleep=sleeps).charges(stripe_sandbox.everything)] == expected
    assert sleeps[0] == 7.0 and len(sleeps) == 2
