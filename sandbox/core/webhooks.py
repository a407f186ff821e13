"""Webhook deliveries the sandbox sends as the platforms send them: signed, with their headers and query.

A platform package renders its notifications for a tenant's account as `Delivery`s (its own
signing scheme, its own headers, its own body encoding); `post` sends one to a receiver URL over
real HTTP, the way the platform would. The platform's secret is the one its credentials list
(`sandbox credentials --json`), so a receiver configured from those credentials verifies them.

A delivery may say when, in the world's story, the platform sent it (`sent_at`): a test replaying
a world's deliveries in that order can then record the world time each was received at (what a
receiver would note as "first seen"), rather than the wall clock of the replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
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
    # when the platform delivered it in the world's story (tz-aware); None: the platform did not say
    sent_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.sent_at is not None and self.sent_at.utcoffset() is None:
            raise ValueError("Delivery.sent_at must be timezone-aware")

    def url(self, receiver: str) -> str:
        if not self.query:
            return receiver
        joiner = "&" if "?" in receiver else "?"
        return f"{receiver}{joiner}{urlencode(self.query)}"


def post(client: httpx.Client, receiver: str, delivery: Delivery) -> httpx.Response:
    """POST one delivery to `receiver` (its query string appended, as the platform appends it)."""
    return client.post(delivery.url(receiver), content=delivery.body, headers=dict(delivery.headers))
