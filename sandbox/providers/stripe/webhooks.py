"""Stripe's webhook events for one account's payments, signed as Stripe signs them.

`deliveries(facts, account, now=…)` renders, oldest first, the events Stripe would have sent the
account's endpoint over the world: `payment_intent.succeeded` and `charge.succeeded` when a charge
is paid, `charge.failed`, `charge.refunded`, `charge.dispute.created`, `charge.dispute.closed`
(lost disputes), `payout.created` and `payout.paid` (once its arrival day has passed). Each event
is `{"id": "evt_…", "object": "event", "api_version", "created", "data": {"object"}, "livemode":
false, "pending_webhooks": 1, "request": {"id", "idempotency_key"}, "type"}`, its object a snapshot
as of the event (the API's rendering at that moment). The body is signed at `now`: header
`Stripe-Signature: t=<now>,v1=<hex HMAC-SHA256 of "{t}.{body}" keyed with the account's whsec_
secret as UTF-8>` (stripe-python `WebhookSignature`), so `stripe.Webhook.construct_event(body,
header, secret)` accepts it for five minutes after `now`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from sandbox.core.webhooks import Delivery
from sandbox.providers.stripe import NAME, wire
from sandbox.providers.stripe.api import API_VERSION
from sandbox.providers.stripe.facts import StripeFacts
from sandbox.providers.stripe.generator import sp_date
from sandbox.providers.stripe.records import StripeAccount


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _event_id(seed: object, obj_id: str, kind: str) -> str:
    digest = hashlib.sha256(f"{seed}|{obj_id}|{kind}".encode()).hexdigest()
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = int(digest, 16)
    chars = []
    for _ in range(24):
        number, rest = divmod(number, 62)
        chars.append(alphabet[rest])
    return "evt_" + "".join(chars)


def _request(obj_id: str, automatic: bool) -> dict[str, Any]:
    if automatic:
        return {"id": None, "idempotency_key": None}
    token = hashlib.sha256(obj_id.encode()).hexdigest()
    return {
        "id": f"req_{token[:14]}",
        "idempotency_key": f"{token[14:22]}-{token[22:26]}-{token[26:30]}-{token[30:34]}-{token[34:46]}",
    }


def events(facts: StripeFacts, account: StripeAccount) -> list[dict[str, Any]]:
    """The account's events, oldest first (ties in a fixed order), none after the world's clock."""
    now = facts.now or datetime.max
    found: list[tuple[datetime, int, str, dict[str, Any], bool, str]] = []

    def add(at: datetime, order: int, kind: str, obj: dict[str, Any], automatic: bool, obj_id: str) -> None:
        if at <= now:
            found.append((at, order, kind, obj, automatic, obj_id))

    for c in facts.charges:
        if c.account_id != account.account_id:
            continue
        if c.status == "succeeded":
            add(
                c.created, 0, "payment_intent.succeeded", wire.payment_intent(c, account, c.created), False, c.intent_id
            )
            add(c.created, 1, "charge.succeeded", wire.charge(c, account, c.created), False, c.charge_id)
        elif c.status == "failed":
            add(c.created, 1, "charge.failed", wire.charge(c, account, c.created), False, c.charge_id)
        if c.refund is not None:
            at = c.refund.created
            add(at, 2, "charge.refunded", wire.charge(c, account, at), False, c.refund.refund_id)
        if c.dispute is not None:
            d = c.dispute
            txn = facts.txn_by_id[d.txn_id]
            add(d.created, 3, "charge.dispute.created", wire.dispute(d, c, txn, d.created), True, d.dispute_id)
            if d.closed_at is not None:
                add(d.closed_at, 4, "charge.dispute.closed", wire.dispute(d, c, txn, d.closed_at), True, d.dispute_id)
    for p in facts.stripe_payouts:
        if p.account_id != account.account_id:
            continue
        add(p.created, 5, "payout.created", wire.payout(p, account, p.created), True, p.payout_id)
        paid_at = p.created + timedelta(days=1)  # its arrival day is over: paid, announced the next morning
        if p.arrival < sp_date(paid_at):
            add(paid_at, 6, "payout.paid", wire.payout(p, account, paid_at), True, p.payout_id)
    found.sort(key=lambda e: (e[0], e[1], e[5]))
    seed = facts.accounts.index(account)
    rendered = []
    for at, _, kind, obj, automatic, obj_id in found:
        rendered.append(
            {
                "id": _event_id((facts.platform, seed, account.account_id), obj_id, kind),
                "object": "event",
                "api_version": API_VERSION,
                "created": wire.ts(at),
                "data": {"object": obj},
                "livemode": False,
                "pending_webhooks": 1,
                "request": _request(obj_id + kind, automatic),
                "type": kind,
            }
        )
    return rendered


def deliveries(facts: StripeFacts, account: StripeAccount | str, *, now: float | datetime) -> list[Delivery]:
    """The account's events as Stripe posts them to its endpoint, each signed at `now`.

    `account`: the account record, its name (the integration's name) or its secret key.
    """
    if isinstance(account, str):
        found = facts.account_by_name.get(account) or facts.account_by_key.get(account)
        if found is None:
            raise KeyError(f"no Stripe account named {account!r} in this world")
        account = found
    timestamp = int(now.timestamp() if isinstance(now, datetime) else now)
    sent = []
    for event in events(facts, account):
        body = json.dumps(event, indent=2, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature_header(body, account.webhook_secret, timestamp),
        }
        sent.append(Delivery(NAME, event["id"], event["type"], body, headers))
    return sent
