"""What PushinPay's served tests share: an integration for one of the world's accounts, and its
webhook deliveries landed the way the sink lands them.

PushinPay has no list endpoint: a transaction becomes known to the warehouse only when its
notification arrives. So before a sync can re-read anything, the account's deliveries (what the
sandbox says PushinPay sent, `sandbox.providers.pushinpay.webhooks.deliveries`) are landed through
`ingestion.webhook_landing.land`, each with `received_at` = the world time PushinPay sent it.
"""

from __future__ import annotations

from typing import Any

import psycopg

from ingestion import integrations
from ingestion.vault import Keyring
from ingestion.webhook_landing import Landing, land
from sandbox.core.webhooks import Delivery
from sandbox.providers.pushinpay.facts import PushinpayFacts
from sandbox.providers.pushinpay.webhooks import deliveries
from sandbox.world import World


def facts_of(world: World) -> PushinpayFacts:
    return world.facts["pushinpay"]


def sent_to(world: World, account: dict[str, Any], encoding: str | None = None) -> list[Delivery]:
    """Every notification PushinPay sent for the account by the world's end, oldest first."""
    facts = facts_of(world)
    return deliveries(facts, account, now=facts.world_end, encoding=encoding)


def add_integration(
    url: str,
    keyring: Keyring,
    tenant_id: str,
    account: dict[str, Any],
    base_url: str,
    *,
    token: str | None = None,
    payout_documents: list[str] | None = None,
) -> int:
    """Register the account as the warehouse's integration (its token, payout documents and webhook token)."""
    with psycopg.connect(url) as conn:
        integration = integrations.add(
            conn,
            keyring,
            tenant_id=tenant_id,
            provider="pushinpay",
            name=account["name"],
            credentials={"token": token or account["token"]},
            external_ids={"payout_documents": payout_documents or list(account["payout_documents"])},
            base_url=base_url,
            webhook_secret=account["webhook_secret"],
        )
    return integration.integration_id


def land_deliveries(url: str, integration_id: int, sent: list[Delivery], *, keyring: Keyring) -> list[Landing]:
    """Land each delivery as the sink would, received when PushinPay sent it (`Delivery.sent_at`)."""
    with psycopg.connect(url) as conn:
        return [
            land(conn, integration_id, d.headers, d.query, d.body, keyring=keyring, received_at=d.sent_at) for d in sent
        ]
