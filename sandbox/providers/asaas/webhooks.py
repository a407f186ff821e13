"""Asaas's webhook notifications for one account's payments, as Asaas sends them.

Each is a POST of `{"id": "evt_<32 hex>&<n>", "event", "dateCreated": "YYYY-MM-DD HH:MM:SS",
"payment": {…the full payment object at that moment…}}` (reference §4.2) with the account's
authentication token in the `asaas-access-token` header: Asaas signs nothing (no HMAC, no
timestamp), the receiver compares the token. Events follow each payment's life: PAYMENT_CREATED;
PAYMENT_CONFIRMED when a card or boleto is paid; PAYMENT_RECEIVED when the money is credited (a
PIX at once); PAYMENT_OVERDUE; PAYMENT_REFUNDED; PAYMENT_CHARGEBACK_REQUESTED; PAYMENT_DELETED.
Only events before `now` are rendered; the id is stable per (payment, event), so a redelivery
carries the same id. Asaas notifies as the event happens, so each `Delivery.sent_at` is the
event's moment (the envelope's `dateCreated`, in São Paulo wall time).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sandbox.core.webhooks import Delivery
from sandbox.providers.asaas import NAME
from sandbox.providers.asaas.facts import AsaasFacts
from sandbox.providers.asaas.records import AsaasAccount, AsaasPayment
from sandbox.providers.asaas.wire import payment_at, wall_clock

HEADER = "asaas-access-token"
EVENTS = (
    "PAYMENT_CREATED",
    "PAYMENT_CONFIRMED",
    "PAYMENT_RECEIVED",
    "PAYMENT_OVERDUE",
    "PAYMENT_REFUNDED",
    "PAYMENT_CHARGEBACK_REQUESTED",
    "PAYMENT_DELETED",
)


def events_of(p: AsaasPayment) -> list[tuple[datetime, str]]:
    """The payment's events in the order they happened."""
    events: list[tuple[datetime, str]] = [(p.created_at, "PAYMENT_CREATED")]
    if p.confirmed_at is not None:
        if p.method == "pix" and p.credited_at == p.confirmed_at:
            pass  # a PIX paid is received at once: PAYMENT_RECEIVED only
        else:
            events.append((p.confirmed_at, "PAYMENT_CONFIRMED"))
    if p.credited_at is not None:
        events.append((p.credited_at, "PAYMENT_RECEIVED"))
    for moment, event in (
        (p.overdue_at, "PAYMENT_OVERDUE"),
        (p.refunded_at, "PAYMENT_REFUNDED"),
        (p.chargeback_at, "PAYMENT_CHARGEBACK_REQUESTED"),
        (p.deleted_at, "PAYMENT_DELETED"),
    ):
        if moment is not None:
            events.append((moment, event))
    return sorted(events, key=lambda e: (e[0], EVENTS.index(e[1])))


def event_id(payment_id: str, event: str) -> str:
    digest = hashlib.sha256(f"{payment_id}|{event}".encode()).hexdigest()
    return f"evt_{digest[:32]}&{int(digest[32:40], 16) % 10_000_000}"


def _account(facts: AsaasFacts, account: str | dict[str, Any]) -> AsaasAccount:
    if isinstance(account, dict):
        found = facts.account_by_key.get(account.get("api_key", "")) or facts.account_by_name.get(
            account.get("name", "")
        )
    else:
        found = facts.account_by_name.get(account) or facts.account_by_key.get(account)
    if found is None:
        raise KeyError(f"no {NAME} account {account!r}")
    return found


def deliveries(facts: AsaasFacts, account: str | dict[str, Any], *, now: datetime) -> list[Delivery]:
    """Every notification of the account's payments that happened before `now` (and before the as-of), in time order."""
    found = _account(facts, account)
    limit = min(now, facts.as_of_moment)
    rendered: list[tuple[datetime, str, Delivery]] = []
    for p in facts.payments_by_account[found.name]:
        for moment, event in events_of(p):
            if moment >= limit:
                continue
            body = {
                "id": event_id(p.payment_id, event),
                "event": event,
                "dateCreated": wall_clock(moment),
                "payment": payment_at(p, moment + timedelta(seconds=1)),
            }
            raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            headers = {HEADER: found.webhook_secret, "Content-Type": "application/json"}
            delivery = Delivery(NAME, body["id"], event, raw, headers, sent_at=moment)
            rendered.append((moment, p.payment_id, delivery))
    rendered.sort(key=lambda r: (r[0], r[1], EVENTS.index(r[2].event_type)))
    return [d for _, _, d in rendered]
