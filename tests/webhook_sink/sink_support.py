"""Helpers the webhook sink's tests share (fixtures are in conftest.py beside this file)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import psycopg

from webhook_sink.state import SinkState

KNOBS = {"seed": 3, "tenants": 1, "stores_per_tenant": 1, "days": 6}
MAX_BODY = 64 * 1024


@dataclass
class Sink:
    base: str
    state: SinkState
    client: httpx.Client

    def url(self, provider: str, integration_id: int | None = None) -> str:
        tail = f"/{integration_id}" if integration_id is not None else ""
        return f"{self.base}/integrations/webhooks/{provider}{tail}"


def inbox(url: str, where: str = "true", params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"select integration_id, event_id, status, headers, query from ops.webhook_deliveries where {where} "
            "order by delivery_id",
            params,
        ).fetchall()
