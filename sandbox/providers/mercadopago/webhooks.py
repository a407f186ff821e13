"""Mercado Pago's Webhooks notifications of an account's payments, signed as Mercado Pago signs them.

A notification is thin: it names the payment that changed and the receiver fetches it with
`GET /v1/payments/{id}`. Body (MP's "Webhooks" page): `{"id", "live_mode", "type": "payment",
"date_created", "user_id", "api_version": "v1", "action", "data": {"id"}}`, POSTed with the query
`?data.id=<payment id>&type=payment`. Events per payment, in time order:

- `payment.created` when the payment is created (a card approved or declined within seconds is
  created in that state, so it has no separate update);
- `payment.updated` when it changes later: approved (PIX paid, card out of manual review),
  cancelled (PIX expired), refunded, charged back. (The release of the money changes
  `date_last_updated` too, the sandbox's choice, see the package docstring; no notification is
  sent for it: MP's page lists none for a release.)

Each `Delivery` carries `sent_at`: the world time of the change, which is when MP notifies (its
`date_created` and `ts`), so a replay can record when each would have been received.

Signature: header `x-signature: ts=<ts>,v1=<hex>` and `x-request-id: <uuid>`, where `<hex>` is the
lower-case HMAC-SHA256, keyed with the account's signature secret (`webhook_secret`, UTF-8), of the
manifest `id:<data.id>;request-id:<x-request-id>;ts:<ts>;` (the trailing `;` included). `ts` is
in **seconds**: MP's page says milliseconds but its own example (`ts=1704908010`) is ten digits, and
the official SDK's `WebhookSignatureValidator` compares `int(ts) * 1000` with the clock in
milliseconds, i.e. it reads seconds. Numeric payment ids need no lower-casing.
Notification ids and request ids are derived from the payment, the action and the time, so a
redelivery of the same event carries the same ids.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sandbox.core.webhooks import Delivery
from sandbox.providers.mercadopago import NAME
from sandbox.providers.mercadopago.facts import MercadoPagoFacts
from sandbox.providers.mercadopago.records import Account, Payment
from sandbox.providers.mercadopago.wire import mp_time

CREATED = "payment.created"
UPDATED = "payment.updated"
INSTANT = timedelta(seconds=60)  # a state reached within this of creation is the state it was created in


def signature(secret: str, data_id: str | None, request_id: str | None, ts: str) -> str:
    """The `v1` of `x-signature`: HMAC-SHA256 hex of the manifest, segments without a value dropped."""
    parts = []
    if data_id:
        parts.append(f"id:{data_id}")
    if request_id:
        parts.append(f"request-id:{request_id}")
    parts.append(f"ts:{ts}")
    manifest = ";".join(parts) + ";"
    return hmac.new(secret.encode("utf-8"), manifest.encode("utf-8"), hashlib.sha256).hexdigest()


def events(payment: Payment) -> list[tuple[datetime, str]]:
    """(time, action) of each notification MP sends about the payment, oldest first."""
    found = [(payment.created_at, CREATED)]
    if payment.approved_at is not None and payment.approved_at - payment.created_at > INSTANT:
        found.append((payment.approved_at, UPDATED))
    if payment.status == "cancelled" and payment.expires_at is not None:
        found.append((payment.expires_at, UPDATED))
    for refund in payment.refunds:
        found.append((refund.created_at, UPDATED))
    if payment.charged_back_at is not None:
        found.append((payment.charged_back_at, UPDATED))
    return sorted(found)


def _account(facts: MercadoPagoFacts, account: str | Mapping[str, Any] | Account) -> Account:
    if isinstance(account, Account):
        return account
    name = account if isinstance(account, str) else account.get("name")
    found = facts.account_by_name.get(str(name))
    if found is None:
        raise KeyError(f"{NAME}: no account {name!r}; known: {', '.join(facts.account_by_name)}")
    return found


def notification(account: Account, payment: Payment, at: datetime, action: str) -> Delivery:
    """One signed notification about `payment`, sent at `at`."""
    seed = hashlib.sha256(f"{NAME}|{payment.payment_id}|{action}|{at.isoformat()}".encode()).digest()
    notification_id = 100_000_000_000 + int.from_bytes(seed[:8], "big") % 900_000_000_000
    request_id = str(uuid.UUID(bytes=seed[8:24], version=4))
    data_id = str(payment.payment_id)
    body = {
        "id": notification_id,
        "live_mode": False,
        "type": "payment",
        "date_created": mp_time(at),
        "user_id": account.collector_id,
        "api_version": "v1",
        "action": action,
        "data": {"id": data_id},
    }
    ts = str(int(at.timestamp()))
    return Delivery(
        platform=NAME,
        event_id=str(notification_id),
        event_type=action,
        body=json.dumps(body, separators=(",", ":")).encode(),
        headers={
            "content-type": "application/json",
            "x-request-id": request_id,
            "x-signature": f"ts={ts},v1={signature(account.webhook_secret, data_id, request_id, ts)}",
        },
        query={"data.id": data_id, "type": "payment"},
        sent_at=at,
    )


def deliveries(facts: MercadoPagoFacts, account: str | Mapping[str, Any] | Account, *, now: datetime) -> list[Delivery]:
    """Every notification MP sent about one account's payments up to `now` (tz-aware), oldest first.

    `account` is the account's name or its credentials entry (`{"name": …, …}`).
    """
    if now.tzinfo is None:
        raise ValueError(f"{NAME}: now must be timezone-aware")
    found = _account(facts, account)
    timeline = [
        (at, action, payment)
        for payment in facts.payments_by_account[found.name]
        for at, action in events(payment)
        if at <= now
    ]
    timeline.sort(key=lambda e: (e[0], e[2].payment_id, e[1] != CREATED))
    return [notification(found, payment, at, action) for at, action, payment in timeline]
