"""What Hotmart's served tests share: an integration for one of the world's producer accounts, the
world's facts about it, its webhook deliveries landed the way the sink lands them, and the
sandbox's request log read as Hotmart calls.

The sandbox answers as of the world's end (`HotmartFacts.world_end`): a sync of any interval sees
each sale with its last status. What a day-by-day run adds is the webhooks: each delivery lands,
received when Hotmart sent it, before the sync of its day, so `ingestion.sync.known_ids` sees them
as production would.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import psycopg

from ingestion import integrations
from ingestion.vault import Keyring
from ingestion.webhook_landing import Landing, land
from plugins.providers.base import Interval
from plugins.providers.hotmart.provider import LATER_STATUSES, WARRANTY_LOOKBACK
from sandbox.core.payments.facts import PaymentFacts
from sandbox.core.webhooks import Delivery
from sandbox.providers.hotmart.facts import HotmartFacts
from sandbox.providers.hotmart.records import HotmartSale
from sandbox.providers.hotmart.webhooks import deliveries
from sandbox.world import World

from ..served_clients import requests_log

PREFIX = "/hotmart"
TOKEN = "/security/oauth/token"
HISTORY = "/payments/api/v1/sales/history"
COMMISSIONS = "/payments/api/v1/sales/commissions"
PRICE_DETAILS = "/payments/api/v1/sales/price/details"


def facts_of(world: World) -> HotmartFacts:
    return world.facts["hotmart"]


def sales_of(world: World, account: dict[str, Any]) -> dict[str, HotmartSale]:
    """The account's purchases Hotmart serves at the world's end, by transaction."""
    facts = facts_of(world)
    return {
        h.transaction: h for h in facts.sales_by_account[account["name"]] if h.status_at(facts.world_end) is not None
    }


def ordered_in(world: World, account: dict[str, Any], interval: Interval) -> dict[str, HotmartSale]:
    """The account's purchases ordered in `interval` (Hotmart's `start_date`/`end_date` read as order date)."""
    return {t: h for t, h in sales_of(world, account).items() if interval.start <= h.sale.created_at < interval.end}


def listed_for(world: World, account: dict[str, Any], interval: Interval) -> dict[str, HotmartSale]:
    """What one sync of `interval` lists: every purchase ordered in it, and those ordered in the
    warranty look-back before it that are now in a later status (the warranty passes)."""
    facts = facts_of(world)
    lookback = Interval(interval.start - WARRANTY_LOOKBACK, interval.start)
    later = {
        t: h for t, h in ordered_in(world, account, lookback).items() if h.status_at(facts.world_end) in LATER_STATUSES
    }
    return ordered_in(world, account, interval) | later


def payments_of(world: World) -> dict[str, PaymentFacts]:
    return {p.payment_id: p for p in facts_of(world).payments}


def sent_to(world: World, account: dict[str, Any]) -> list[Delivery]:
    facts = facts_of(world)
    return deliveries(facts, account["name"], now=facts.world_end)


def add_integration(
    url: str,
    keyring: Keyring,
    tenant_id: str,
    account: dict[str, Any],
    base_url: str,
    **credentials: str,
) -> int:
    with psycopg.connect(url) as conn:
        integration = integrations.add(
            conn,
            keyring,
            tenant_id=tenant_id,
            provider="hotmart",
            name=account["name"],
            credentials={
                "client_id": account["client_id"],
                "client_secret": account["client_secret"],
                "basic": account["basic"],
            }
            | credentials,
            external_ids={"payout_documents": list(account["payout_documents"])},
            base_url=base_url,
            webhook_secret=account["webhook_secret"],
        )
    return integration.integration_id


def land_deliveries(url: str, integration_id: int, sent: Iterable[Delivery], *, keyring: Keyring) -> list[Landing]:
    with psycopg.connect(url) as conn:
        return [
            land(conn, integration_id, d.headers, d.query, d.body, keyring=keyring, received_at=d.sent_at) for d in sent
        ]


def calls(base_url: str) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path under /hotmart, query) of every request the sandbox served since the log was cleared."""
    out = []
    for entry in requests_log(base_url):
        path = entry["path"]
        if path.startswith(PREFIX + "/"):
            query = dict(parse_qsl(entry.get("query") or "", keep_blank_values=True))
            out.append((entry["method"], path.removeprefix(PREFIX), query))
    return out


def sales_rows(url: str, source: str = "api") -> list[tuple[str, str, dict, datetime]]:
    """Every `hotmart_sales` row: (transaction, status key, payload, loaded_at), oldest first."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select external_id, status, payload, loaded_at from raw.hotmart_sales where source = %s order by loaded_at",
            (source,),
        ).fetchall()
