"""Reading the fake Stripe over HTTP the way docs/payment-reconciliation-rules.md reads Stripe.

`walk` follows a cursor list to its end (`has_more: false`); `canonical_payments` turns one
account's charges, balance transactions, refunds, disputes and payouts into the rules' canonical
payments (payment id → its fields), independently of the sandbox's own generic facts, so a test
can compare the two.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def walk(http: httpx.Client, path: str, key: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every object of a list, newest first, following `starting_after`; and how many pages it took."""
    rows: list[dict[str, Any]] = []
    pages = 0
    query = {"limit": 100, **params}
    while True:
        reply = http.get(path, params=query, headers=auth(key))
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["object"] == "list" and body["url"] == path.removeprefix("/stripe")
        rows += body["data"]
        pages += 1
        if not body["has_more"]:
            return rows, pages
        assert body["data"], "has_more with an empty page"
        query = {**query, "starting_after": body["data"][-1]["id"]}


def sp_date(unix: int) -> date:
    return datetime.fromtimestamp(unix, UTC).astimezone(SAO_PAULO).date()


def utc_date(unix: int) -> date:
    """A Stripe date field (`available_on`, `arrival_date`): midnight UTC of its date (the rules read its UTC date)."""
    moment = datetime.fromtimestamp(unix, UTC)
    assert moment.time() == datetime.min.time(), f"{unix} is not a midnight UTC"
    return moment.date()


def cents(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-2)


def canonical_payments(http: httpx.Client, key: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The rules' canonical payments and payouts of one account, read from the wire only."""
    charges, _ = walk(http, "/stripe/v1/charges", key)
    txns = {t["id"]: t for t in walk(http, "/stripe/v1/balance_transactions", key)[0]}
    refunds, _ = walk(http, "/stripe/v1/refunds", key)
    disputes, _ = walk(http, "/stripe/v1/disputes", key)
    payouts, _ = walk(http, "/stripe/v1/payouts", key)
    payout_of: dict[str, str] = {}
    payout_rows = {}
    for p in payouts:
        members, _ = walk(http, "/stripe/v1/balance_transactions", key, payout=p["id"])
        for t in members:
            if t["type"] != "payout":
                payout_of[t["id"]] = p["id"]
        payout_rows[p["id"]] = {"amount": cents(p["amount"]), "date": utc_date(p["arrival_date"])}
    refunded: dict[str, list[dict[str, Any]]] = {}
    for r in refunds:
        refunded.setdefault(r["charge"], []).append(r)
    disputed = {d["charge"]: d for d in disputes}
    rows = {}
    for c in charges:
        txn = txns.get(c["balance_transaction"]) if c["balance_transaction"] else None
        its_refunds = refunded.get(c["id"], [])
        if c["id"] in disputed and disputed[c["id"]]["status"] != "won":
            status = "charged_back"
        elif its_refunds and sum(r["amount"] for r in its_refunds) == c["amount"]:
            status = "refunded"
        else:
            status = {"succeeded": "paid", "pending": "pending", "failed": "failed"}[c["status"]]
        details = c["payment_method_details"]
        plan = (details.get("card") or {}).get("installments") or {}
        rows[c["id"]] = {
            "order_id": c["metadata"]["order_id"],
            "product_id": c["metadata"]["product_id"],
            "affiliate_id": c["metadata"].get("affiliate_id"),
            "method": details["type"],
            "installments": plan["plan"]["count"] if plan.get("plan") else 1,
            "status": status,
            "gross": cents(c["amount"]),
            "fee": cents(sum(d["amount"] for d in txn["fee_details"] if d["type"] != "application_fee"))
            if txn
            else Decimal("0.00"),
            "split_withheld": cents(sum(d["amount"] for d in txn["fee_details"] if d["type"] == "application_fee"))
            if txn
            else Decimal("0.00"),
            "stated_net": cents(txn["net"]) if txn else None,
            "paid_at": datetime.fromtimestamp(c["created"], UTC) if c["status"] == "succeeded" else None,
            "expected_release": utc_date(txn["available_on"]) if txn else None,
            "refunded_at": datetime.fromtimestamp(max(r["created"] for r in its_refunds), UTC) if its_refunds else None,
            "payout_id": payout_of.get(txn["id"]) if txn else None,
        }
    return rows, payout_rows
