"""What the provider client tests share: one small served sandbox world and its control surface.

Faults (429 with Retry-After, 503, revoked keys) are injected through the sandbox's control
surface, so what the client tests exercise is our transport's real behaviour on the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx

from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig

CONFIG = WorldConfig(seed=11, tenants=1, stores_per_tenant=2, days=10, orders_per_day=60, bank_noise_per_day=120)
FIRST, LAST = CONFIG.start, CONFIG.start + timedelta(days=CONFIG.days - 1)

# (base url, the providers' base urls, the tenant's credentials, the world)
Served = tuple[str, dict[str, str], dict[str, Any], World]


def serve_world(config: WorldConfig = CONFIG) -> Iterator[Served]:
    """Serve `config`'s world (CONFIG's unless a test needs more of something) over a real socket
    for as long as the generator is open."""
    world = World(config)
    base_url, stop = start_in_thread(world, port=0)
    creds = world.credentials(base_url)
    try:
        yield base_url, creds["base_urls"], creds["tenants"][0], world
    finally:
        stop()


def without_faults(base_url: str) -> Iterator[None]:
    """No queued fault before or after a test, whatever the test left behind."""
    httpx.delete(f"{base_url}/_sandbox/faults")
    yield
    httpx.delete(f"{base_url}/_sandbox/faults")


def inject(base_url: str, provider: str, path_prefix: str, *responses: dict) -> None:
    reply = httpx.post(
        f"{base_url}/_sandbox/faults",
        json={"provider": provider, "path_prefix": path_prefix, "responses": list(responses)},
    )
    reply.raise_for_status()


def clear_requests(base_url: str) -> None:
    httpx.delete(f"{base_url}/_sandbox/requests")


def requests_log(base_url: str) -> list[dict]:
    return httpx.get(f"{base_url}/_sandbox/requests").json()


class Sleeps(list):
    """Records the waits the transport asks for, and spends none of them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
