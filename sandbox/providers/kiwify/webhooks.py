"""Kiwify's webhook notifications for one producer account's sales, signed as Kiwify signs them.

Kiwify POSTs the JSON body to the registered URL with the query parameter `signature` = the
lowercase hex HMAC-SHA1 of the raw body bytes keyed with the webhook's token (docs.kiwify.com.br,
"Receber webhooks"; no header carries it, no timestamp). Events (`webhook_event_type`, reference
§7.2) as the story produces them: `pix_created` / `billet_created` when a PIX or boleto order is
created, `order_approved` when paid, `order_rejected` when a card is declined, `order_refunded`,
`chargeback`; for subscriptions a renewal sends `order_approved` AND `subscription_renewed` for the
same order (official "subscription events" page), a declined renewal `order_rejected` and
`subscription_late`, and a cancellation `subscription_canceled` (on the subscription's last order).
Each `Delivery` carries the `signature` query and `sent_at` = the event's world time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sandbox.core.webhooks import Delivery
from sandbox.providers.kiwify import NAME
from sandbox.providers.kiwify.facts import KiwifyFacts
from sandbox.providers.kiwify.records import KiwifyAccount, KiwifySale
from sandbox.providers.kiwify.wire import webhook_body

SIGNATURE_PARAM = "signature"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def _account(facts: KiwifyFacts, account: str | Mapping[str, Any]) -> KiwifyAccount:
    if isinstance(account, str):
        found = facts.account_by_name.get(account)
    else:
        found = facts.account_by_name.get(str(account.get("name"))) or facts.account_by_client.get(
            str(account.get("client_id"))
        )
    if found is None:
        raise KeyError(f"no Kiwify account {account!r} in this world")
    return found


def events(k: KiwifySale) -> list[tuple[datetime, str, str, str | None]]:
    """(when, event, the order's status then, the subscription's status) of every notification of a sale."""
    s = k.sale
    out: list[tuple[datetime, str, str, str | None]] = []
    if s.method in ("pix", "boleto"):
        out.append((s.created_at, "pix_created" if s.method == "pix" else "billet_created", "waiting_payment", None))
    if s.failed_at is not None:
        out.append((s.failed_at, "order_rejected", "refused", None))
        if s.renewal_failed:
            out.append((s.failed_at, "subscription_late", "refused", "late"))
    if s.paid_at is not None:
        out.append((s.paid_at, "order_approved", "paid", None))
        if s.subscription is not None and s.number > 1:
            out.append((s.paid_at, "subscription_renewed", "paid", "active"))
    if s.refunded_at is not None:
        out.append((s.refunded_at, "order_refunded", "refunded", None))
    if s.charged_back_at is not None:
        out.append((s.charged_back_at, "chargeback", "chargedback", None))
    return out


def deliveries(facts: KiwifyFacts, account: str | Mapping[str, Any], *, now: datetime) -> list[Delivery]:
    """Every notification Kiwify sent for the account's sales by `now` (and before the world's end), oldest first."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    found = _account(facts, account)
    horizon = min(now, facts.world_end) if facts.world_end is not None else now
    planned: list[tuple[datetime, str, KiwifySale, str, str | None]] = []
    last_of: dict[str, KiwifySale] = {}
    for k in facts.sales_by_account[found.name]:
        for at, event, status, sub_status in events(k):
            planned.append((at, event, k, status, sub_status))
        if k.subscription_id is not None:
            last_of[k.subscription_id] = k
    for k in last_of.values():
        sub = k.sale.subscription
        if sub is not None and sub.canceled_at is not None:
            planned.append(
                (sub.canceled_at, "subscription_canceled", k, k.status_at(sub.canceled_at) or "paid", "canceled")
            )
    sent = []
    for at, event, k, status, sub_status in planned:
        if at >= horizon:
            continue
        body = json.dumps(
            webhook_body(k, found, status, event, at, subscription_status=sub_status),
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        sent.append(
            Delivery(
                platform=NAME,
                event_id=f"{k.id}:{event}",
                event_type=event,
                body=body,
                headers={"Content-Type": "application/json"},
                query={SIGNATURE_PARAM: sign(found.webhook_secret, body)},
                sent_at=at,
            )
        )
    sent.sort(key=lambda d: (d.sent_at, d.event_id))
    return sent
