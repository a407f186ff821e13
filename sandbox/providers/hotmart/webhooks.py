"""Hotmart's webhook notifications (version 2.0.0) for one producer account's purchases.

Hotmart POSTs a JSON envelope `{id (uuid, the dedupe key), creation_date (epoch ms), event,
version: "2.0.0", data}` on each purchase status change, authenticated by the account's static
token in the header `X-HOTMART-HOTTOK` (reference §6.1/§6.2: no HMAC, no timestamp). Events as the
story produces them: PURCHASE_APPROVED, PURCHASE_COMPLETE (the warranty elapsed), PURCHASE_CANCELED
(card declined), PURCHASE_DELAYED (a subscription charge declined), PURCHASE_EXPIRED (an unpaid PIX
or boleto lapsed), PURCHASE_REFUNDED, PURCHASE_PROTEST (a dispute opened) and PURCHASE_CHARGEBACK.
`data` is the purchase at that moment (`wire.webhook_data`), its `commissions` listing Hotmart's own
cut as source `MARKETPLACE` (an inference from Hotmart's test payload, reference §6.2) besides the
PRODUCER / COPRODUCER / AFFILIATE commissions.

Each `Delivery` carries `sent_at` = the status change's world time = `creation_date`: the moment
the warehouse's rules take as a refund's or a chargeback's time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sandbox.core.webhooks import Delivery
from sandbox.providers.hotmart import NAME
from sandbox.providers.hotmart.facts import HotmartFacts
from sandbox.providers.hotmart.records import EVENTS, HotmartAccount
from sandbox.providers.hotmart.wire import dumps, ms, webhook_data

HOTTOK_HEADER = "X-HOTMART-HOTTOK"
VERSION = "2.0.0"


def _account(facts: HotmartFacts, account: str | Mapping[str, Any]) -> HotmartAccount:
    if isinstance(account, str):
        found = facts.account_by_name.get(account)
    else:
        found = facts.account_by_name.get(str(account.get("name"))) or facts.account_by_client.get(
            str(account.get("client_id"))
        )
    if found is None:
        raise KeyError(f"no Hotmart account {account!r} in this world")
    return found


def deliveries(facts: HotmartFacts, account: str | Mapping[str, Any], *, now: datetime) -> list[Delivery]:
    """Every notification Hotmart sent for the account's purchases by `now` (and before the world's end), oldest first."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    found = _account(facts, account)
    horizon = min(now, facts.world_end) if facts.world_end is not None else now
    sent: list[Delivery] = []
    for h in facts.sales_by_account[found.name]:
        for i, (at, status) in enumerate(h.status_changes()):
            event = EVENTS.get(status)
            if event is None or at >= horizon:
                continue
            event_id = h.event_ids[i % len(h.event_ids)]
            envelope = {
                "id": event_id,
                "creation_date": ms(at),
                "event": event,
                "version": VERSION,
                "data": webhook_data(h, found, status),
            }
            sent.append(
                Delivery(
                    platform=NAME,
                    event_id=event_id,
                    event_type=event,
                    body=dumps(envelope),
                    headers={"Content-Type": "application/json", HOTTOK_HEADER: found.hottok},
                    sent_at=at,
                )
            )
    sent.sort(key=lambda d: (d.sent_at, d.event_id))
    return sent
