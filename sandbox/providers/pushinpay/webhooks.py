"""PushinPay's webhook notifications for one account's charges, as PushinPay sends them.

PushinPay POSTs to a charge's `webhook_url` "when the status changes" (official "Criar PIX" page:
payment and refund, "pagamento ou estorno", and a lapsed charge's `canceled`/`expired`; never on
creation), retrying 3 times on failure. Authentication is a static token the merchant sets in the
panel, sent back in the header `x-pushinpay-token` on every notification (third-party consensus:
six or more independent receivers; the official pages say only that a custom header can be
configured). There is no HMAC and no timestamp, so nothing signs the body. The body is the charge's
`{id, status, value, end_to_end_id, payer_name, payer_national_registration}`, JSON by default (most
receivers parse JSON) or form-encoded for an account whose `webhook_encoding` is `form` (receivers
report both).

Each `Delivery` carries `sent_at`: the world time of the status change (PushinPay notifies at once),
so a replay can record when the warehouse first saw a charge paid. Its query is the `webhook_url`'s
(order, product, affiliate), which PushinPay posts to as given.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.core.webhooks import Delivery
from sandbox.providers.pushinpay import NAME
from sandbox.providers.pushinpay.facts import PushinpayFacts
from sandbox.providers.pushinpay.records import PushinpayAccount
from sandbox.providers.pushinpay.wire import notification_body

TOKEN_HEADER = "x-pushinpay-token"
ENCODINGS = ("json", "form")


def _account(facts: PushinpayFacts, account: str | Mapping[str, Any]) -> PushinpayAccount:
    """The account named by its name, or by its credentials entry (`name`, else `token`)."""
    if isinstance(account, str):
        found = facts.account_by_name.get(account)
    else:
        found = facts.account_by_name.get(str(account.get("name"))) or facts.account_by_token.get(
            str(account.get("token"))
        )
    if found is None:
        raise KeyError(f"no PushinPay account {account!r} in this world")
    return found


def deliveries(
    facts: PushinpayFacts,
    account: str | Mapping[str, Any],
    *,
    now: datetime,
    encoding: str | None = None,
) -> list[Delivery]:
    """Every notification PushinPay sent for the account's charges by `now` (world time), oldest first.

    One per status change after creation (`paid`, `refunded`, `canceled`/`expired`), never past the
    world's end. `encoding` overrides the account's (`json` or `form`).
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    found = _account(facts, account)
    chosen = encoding or found.webhook_encoding
    if chosen not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, got {chosen!r}")
    horizon = min(now, facts.world_end) if facts.world_end is not None else now
    sent: list[Delivery] = []
    for charge in facts.charges_by_account[found.name]:
        query = dict(parse_qsl(urlsplit(charge.webhook_url).query))
        for at, status in charge.changes()[1:]:
            if at > horizon:
                break
            body, content_type = notification_body(charge, status, chosen)
            sent.append(
                Delivery(
                    platform=NAME,
                    event_id=f"{charge.id}:{status}",
                    event_type=status,
                    body=body,
                    headers={"Content-Type": content_type, TOKEN_HEADER: found.webhook_secret},
                    query=query,
                    sent_at=at,
                )
            )
    sent.sort(key=lambda d: (d.sent_at, d.event_id))
    return sent
