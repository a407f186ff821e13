"""Webhook deliveries the sandbox sends as the platforms send them: signed, with their headers and query.

A platform package renders its notifications for a tenant's account as `Delivery`s (its own
signing scheme, its own headers, its own body encoding); `post` sends one to a receiver URL over
real HTTP, the way the platform would. The platform's secret is the one its credentials list
(`sandbox credentials --json`), so a receiver configured from those credentials verifies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx


@dataclass(frozen=True)
class Delivery:
    """One notification as sent: the raw body bytes exactly as signed, headers, and query parameters."""

    platform: str
    event_id: str  # the platform's id for the notification (what its redeliveries share)
    event_type: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)

    def url(self, receiver: str) -> str:
        if not self.query:
            return receiver
        joiner = "&" if "?" in receiver else "?"
        return f"{receiver}{joiner}{urlencode(self.query)}"


def post(client: httpx.Client, receiver: str, delivery: Delivery) -> httpx.Response:
    """POST one delivery to `receiver` (its query string appended, as the platform appends it)."""
    return client.post(delivery.url(receiver), content=delivery.body, headers=dict(delivery.headers))
