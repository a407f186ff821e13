"""The real Stripe provider against the sandbox's Stripe, over real sockets: what lands is the world.

`StripeProvider.sync` over the served world's whole interval must land, per account, exactly the
world's charges, refunds, disputes, balance transactions (the account's statement) and payouts,
each once, and for every payout the balance transactions its `?payout=` listing holds. The money
read from the landed payloads (integer minor units → exact Decimals) must be the world's facts to
the cent, read the way docs/payment-reconciliation-rules.md reads Stripe: gross, fee, withheld
split, net, release date, payout, status; and each payout's amount and arrival date. An interval of
a few days lands exactly that part; a wrong key is an AuthenticationError; an object the key
cannot reach (another account's payout, a mistyped id) is a NotLinkedError.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import msgspec
import pytest

from plugins.providers.base import RawRecord
from plugins.providers.errors import AuthenticationError, NotLinkedError
from plugins.providers.stripe import shapes
from plugins.providers.stripe.client import STRIPE_VERSION, created_bounds
from plugins.providers.stripe.provider import StripeProvider
from plugins.providers.stripe.records import timestamp, to_major_units
from sandbox.core.calendar import SAO_PAULO
from sandbox.providers.stripe.records import StripeAccount

from ..served_clients import FIRST, clear_requests, requests_log
from .conftest import StripeSandbox

pytestmark = pytest.mark.usefixtures("no_faults")

ZERO = Decimal("0.00")


def landed_by_table(records: list[RawRecord]) -> dict[str, dict[str, tuple[dict[str, Any], dict[str, str]]]]:
    """table → external id → (payload, keys); every (table, external id) landed once."""
    counts = Counter((r.table, r.external_id) for r in records)
    assert [k for k, n in counts.items() if n > 1] == [], "nothing lands twice"
    out: dict[str, dict[str, tuple[dict[str, Any], dict[str, str]]]] = defaultdict(dict)
    for r in records:
        out[r.table][r.external_id] = (msgspec.json.decode(bytes(r.payload)), dict(r.keys))  # type: ignore[arg-type]
    return out


def sync(sandbox: StripeSandbox, account: int, first: date | None = None, last: date | None = None) -> list[RawRecord]:
    interval = sandbox.everything if first is None else sandbox.days(first, last or first)
    provider = sandbox.provider(account)
    try:
        return list(provider.sync(interval))
    finally:
        provider.close()


def account_of(sandbox: StripeSandbox, index: int) -> StripeAccount:
    return sandbox.facts.account_by_key[sandbox.accounts[index]["secret_key"]]


def expected_ids(sandbox: StripeSandbox, account: StripeAccount, gte: int, lt: int) -> dict[str, dict[str, str]]:
    """What the world says lands for the account with `created` in [gte, lt): table → id → key value."""
    f = sandbox.facts
    now = f.now
    assert now is not None

    def inside(moment: datetime) -> bool:
        return moment <= now and gte <= int(moment.timestamp()) < lt

    mine = [c for c in f.charges if c.account_id == account.account_id]
    payouts = [p for p in f.stripe_payouts if p.account_id == account.account_id and inside(p.created)]
    listed = {p.payout_id: {p.txn_id, *p.paid_txns} for p in payouts}  # the payout's own transaction included
    return {
        "stripe_charges": {c.charge_id: c.intent_id for c in mine if inside(c.created)},
        "stripe_refunds": {c.refund.refund_id: c.charge_id for c in mine if c.refund and inside(c.refund.created)},
        "stripe_disputes": {c.dispute.dispute_id: c.charge_id for c in mine if c.dispute and inside(c.dispute.created)},
        "stripe_balance_transactions": {
            t.txn_id: t.source
            for t in f.balance_transactions
            if t.account_id == account.account_id and inside(t.created)
        },
        "stripe_payouts": {p.payout_id: "" for p in payouts},
        "stripe_payout_transactions": {f"{po}:{t}": po for po, txns in listed.items() for t in txns},
    }


def key_values(landed: dict[str, dict[str, tuple[dict[str, Any], dict[str, str]]]]) -> dict[str, dict[str, str]]:
    return {
        table: {ident: next(iter(keys.values())) for ident, (_, keys) in rows.items()} for table, rows in landed.items()
    }


# ---------------------------------------------------------------------------------- every id


@pytest.mark.parametrize("account", [0, 1])
def test_sync_over_the_world_lands_exactly_the_worlds_objects_once(stripe_sandbox: StripeSandbox, account: int) -> None:
    records = sync(stripe_sandbox, account)
    landed = key_values(landed_by_table(records))
    gte, lt = created_bounds(stripe_sandbox.everything)
    expected = expected_ids(stripe_sandbox, account_of(stripe_sandbox, account), gte, lt)
    assert set(landed) == set(StripeProvider.raw_tables), "every raw table of the provider lands"
    for table, ids in expected.items():
        assert ids, f"the world has {table} for this account"
        if table == "stripe_payouts":
            assert set(landed[table]) == set(ids)
        else:
            assert landed[table] == ids, table
    assert len(records) == sum(len(ids) for ids in expected.values())
    assert len(landed["stripe_charges"]) > 100, "more than one page of charges"


def test_payouts_list_their_own_transaction_and_net_to_their_amount(stripe_sandbox: StripeSandbox) -> None:
    """The client's stated total (a payout's transactions net to its amount, leaving out its own
    `payout` transaction) against the sandbox's payouts, whose listing includes that transaction."""
    landed = landed_by_table(sync(stripe_sandbox, 0))
    payouts = landed["stripe_payouts"]
    by_payout: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for payload, keys in landed["stripe_payout_transactions"].values():
        by_payout[keys["payout_id"]].append(payload)
    assert set(by_payout) == set(payouts)
    for payout_id, (payout, keys) in payouts.items():
        own = [t for t in by_payout[payout_id] if t["id"] == payout["balance_transaction"]]
        assert [(t["type"], t["amount"], t["source"]) for t in own] == [("payout", -payout["amount"], payout_id)]
        assert sum(t["net"] for t in by_payout[payout_id] if t["type"] != "payout") == payout["amount"]
        assert sum(t["net"] for t in by_payout[payout_id]) == 0
        assert payout["automatic"] is True and keys["status"] == payout["status"]


# ---------------------------------------------------------------------------------- the money


def sp_date(seconds: int) -> date:
    return timestamp(seconds).astimezone(SAO_PAULO).date()


def status_of(charge: dict[str, Any], refunds: list[dict[str, Any]], disputes: list[dict[str, Any]]) -> str:
    """The canonical status, as docs/payment-reconciliation-rules.md reads a Stripe charge."""
    if any(d["status"] != "won" for d in disputes):
        return "charged_back"
    if refunds and sum(r["amount"] for r in refunds if r["status"] == "succeeded") == charge["amount"]:
        return "refunded"
    return {"succeeded": "paid", "pending": "pending", "failed": "failed"}[charge["status"]]


@pytest.mark.parametrize("account", [0, 1])
def test_the_landed_money_is_the_worlds_to_the_cent(stripe_sandbox: StripeSandbox, account: int) -> None:
    facts = stripe_sandbox.facts
    name = stripe_sandbox.accounts[account]["name"]
    landed = landed_by_table(sync(stripe_sandbox, account))
    txns = {i: p for i, (p, _) in landed["stripe_balance_transactions"].items()}
    payout_of = {p["id"]: keys["payout_id"] for p, keys in landed["stripe_payout_transactions"].values()}
    payouts = {i: p for i, (p, _) in landed["stripe_payouts"].items()}
    refunds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for payload, _ in landed["stripe_refunds"].values():
        refunds[payload["charge"]].append(payload)
    disputes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for payload, _ in landed["stripe_disputes"].values():
        disputes[payload["charge"]].append(payload)
    truth = {row["payment_id"]: row for row in facts.ground_truth() if row["integration"] == name}
    stated = [p for p in facts.payments if p.integration == name]
    assert {p.payment_id for p in stated} == set(landed["stripe_charges"]) == set(truth)

    for fact in stated:
        charge, _ = landed["stripe_charges"][fact.payment_id]
        currency = charge["currency"]
        txn = txns.get(charge["balance_transaction"]) if charge["balance_transaction"] else None
        fees = txn["fee_details"] if txn else []
        gross = to_major_units(charge["amount"], currency)
        fee = sum((to_major_units(d["amount"], currency) for d in fees if d["type"] != "application_fee"), ZERO)
        split = sum((to_major_units(d["amount"], currency) for d in fees if d["type"] == "application_fee"), ZERO)
        status = status_of(charge, refunds[charge["id"]], disputes[charge["id"]])
        payout_id = payout_of.get(charge["balance_transaction"])
        read = {
            "payment_status": status,
            "gross_amount": gross,
            "fee_amount": fee,
            "split_withheld_amount": split,
            "net_amount": gross - fee - split if status in ("paid", "refunded", "charged_back") else ZERO,
            "expected_release_date": timestamp(txn["available_on"]).date() if txn else None,  # midnight UTC
            "payout_id": payout_id,
            "payout_amount": to_major_units(payouts[payout_id]["amount"], currency) if payout_id else None,
            "payout_date": timestamp(payouts[payout_id]["arrival_date"]).date() if payout_id else None,
            "order_id": charge["metadata"]["order_id"],
            "method": charge["payment_method_details"]["type"],
        }
        assert read == {k: truth[fact.payment_id][k] for k in read}, fact.payment_id
        assert (gross, fee, split, status) == (fact.gross, fact.fee, fact.split_withheld, fact.status)
        if txn is not None:  # Stripe's own net agrees with the computed one
            assert to_major_units(txn["net"], currency) == gross - fee - split
        paid_at = timestamp(charge["created"]) if charge["status"] == "succeeded" else None
        assert paid_at == fact.paid_at
        refunded_at = [timestamp(r["created"]) for r in refunds[charge["id"]]]
        assert refunded_at == ([fact.refunded_at] if fact.refunded_at else [])

    stated_payouts = {p.payout_id: p for p in facts.payouts if p.integration == name}
    assert set(stated_payouts) == set(payouts)
    for payout_id, payout in payouts.items():
        assert to_major_units(payout["amount"], payout["currency"]) == stated_payouts[payout_id].amount
        assert timestamp(payout["arrival_date"]).date() == stated_payouts[payout_id].date


@pytest.mark.parametrize("account", [0, 1])
def test_every_statement_line_lands_with_its_amount_fee_and_net(stripe_sandbox: StripeSandbox, account: int) -> None:
    """The account's balance transactions (its statement at Stripe) carry the world's cents."""
    facts = stripe_sandbox.facts
    landed = landed_by_table(sync(stripe_sandbox, account))
    lines = [p for p, _ in landed["stripe_balance_transactions"].values()]
    for line in lines:
        fact = facts.txn_by_id[line["id"]]
        currency = line["currency"]
        assert (line["amount"], line["fee"], line["net"], line["type"]) == (fact.amount, fact.fee, fact.net, fact.type)
        assert to_major_units(line["net"], currency) == to_major_units(line["amount"], currency) - to_major_units(
            line["fee"], currency
        )
    total = sum(to_major_units(line["net"], line["currency"]) for line in lines)
    account_txns = [
        t for t in facts.balance_transactions if t.account_id == account_of(stripe_sandbox, account).account_id
    ]
    assert total == sum(Decimal(t.net) / 100 for t in account_txns if t.txn_id in {line["id"] for line in lines})


# ----------------------------------------------------------------------------- date filters


def test_a_few_days_land_exactly_that_part_of_the_world(stripe_sandbox: StripeSandbox) -> None:
    first, last = FIRST + timedelta(days=3), FIRST + timedelta(days=5)
    clear_requests(stripe_sandbox.base_url)
    landed = key_values(landed_by_table(sync(stripe_sandbox, 0, first, last)))
    gte, lt = created_bounds(stripe_sandbox.days(first, last))
    expected = expected_ids(stripe_sandbox, account_of(stripe_sandbox, 0), gte, lt)
    for table, ids in expected.items():
        if table == "stripe_payouts":
            assert set(landed.get(table, {})) == set(ids)
        else:
            assert landed.get(table, {}) == ids, table
    listings = [parse_qs(r["query"]) for r in requests_log(stripe_sandbox.base_url) if r["path"].startswith("/stripe/")]
    assert sum("payout" in q for q in listings) == len(expected["stripe_payouts"]) > 0
    for query in listings:
        if "payout" in query:
            assert "created[gte]" not in query and "created[lt]" not in query
        else:
            assert (query["created[gte]"], query["created[lt]"]) == ([str(gte)], [str(lt)])
    assert datetime.fromtimestamp(gte, SAO_PAULO).replace(tzinfo=None) == datetime.combine(first, datetime.min.time())
    assert datetime.fromtimestamp(lt, SAO_PAULO).replace(tzinfo=None) == datetime.combine(last, datetime.min.time()) + (
        timedelta(days=1)
    )
    linked = [stripe_sandbox.facts.txn_by_id[i.split(":")[1]].created for i in landed["stripe_payout_transactions"]]
    assert any(not gte <= int(t.timestamp()) < lt for t in linked), "a payout's listing is not cut by `created`"
    everything = key_values(landed_by_table(sync(stripe_sandbox, 0)))
    assert 0 < len(landed["stripe_charges"]) < len(everything["stripe_charges"])


# -------------------------------------------------------------------------- who may read


def test_the_clients_stripe_version_is_accepted(stripe_sandbox: StripeSandbox) -> None:
    client = stripe_sandbox.client(0)
    gte, lt = created_bounds(stripe_sandbox.everything)
    response = client.transport.request(
        "GET", "/v1/charges", params={"created[gte]": gte, "created[lt]": lt, "limit": 1}, auth=client.auth
    )
    assert response.status_code == 200 and response.headers["stripe-version"] == STRIPE_VERSION
    assert response.headers["request-id"].startswith("req_")


def test_a_wrong_key_is_an_authentication_error_and_is_not_retried(stripe_sandbox: StripeSandbox) -> None:
    wrong = stripe_sandbox.accounts[0]["secret_key"][:-4] + "0000"
    clear_requests(stripe_sandbox.base_url)
    provider = stripe_sandbox.provider(0, key=wrong)
    with pytest.raises(AuthenticationError) as raised:
        list(provider.sync(stripe_sandbox.everything))
    message = str(raised.value)
    assert message.startswith("stripe refused the credentials (401) on GET /v1/charges: invalid_request_error")
    assert "Invalid API Key provided" in message and wrong not in message and not raised.value.retryable
    assert len(requests_log(stripe_sandbox.base_url)) == 1


def _payout(stripe_sandbox: StripeSandbox, account: int) -> shapes.Payout:
    return next(payout for payout, _ in stripe_sandbox.client(account).payouts(stripe_sandbox.everything))


def test_another_accounts_payout_is_not_linked(stripe_sandbox: StripeSandbox) -> None:
    """Stripe's 404 `resource_missing` ("No such payout") for an object the key cannot reach."""
    theirs = _payout(stripe_sandbox, 1)
    with pytest.raises(NotLinkedError) as raised:
        stripe_sandbox.client(0).payout_transactions(theirs)
    assert f"stripe: payout {theirs.id} is not reachable with these credentials" in str(raised.value)
    assert not raised.value.retryable


def test_a_mistyped_payout_is_not_linked_naming_it(stripe_sandbox: StripeSandbox) -> None:
    mine = _payout(stripe_sandbox, 0)
    mistyped = msgspec.structs.replace(mine, id=mine.id[:-1] + ("0" if mine.id[-1] != "0" else "1"))
    with pytest.raises(NotLinkedError, match=f"payout {mistyped.id} is not reachable"):
        stripe_sandbox.client(0).payout_transactions(mistyped)
