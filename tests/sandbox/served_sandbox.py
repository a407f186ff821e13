"""What the sandbox tests share: the small world's config, worlds built once, a served sandbox, login helpers."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.world import World, WorldConfig

# Two tenants × two stores, a dozen days: several pages of everything, small enough to be quick.
SMALL = WorldConfig(seed=7, tenants=2, stores_per_tenant=2, days=12, orders_per_day=15, bank_noise_per_day=150)
# One store, three days: for servers a test configures itself (rate limits).
TINY = WorldConfig(seed=3, tenants=1, stores_per_tenant=1, days=3, orders_per_day=5, bank_noise_per_day=5)
# The end-to-end test's world, one of the two coverage worlds (docs/sandbox-world.md).
E2E = WorldConfig(seed=2026, tenants=2, stores_per_tenant=2, days=21, orders_per_day=12, bank_noise_per_day=3)


@functools.cache
def world_of(config: WorldConfig) -> World:
    """One `World` per config for the whole session: generation is deterministic, so tests share it (read only)."""
    return World(config)


class FakeClock:
    """Monotonic seconds that move only when a test advances them: the sandbox's rate-limit
    windows and on-demand report ages then follow the test, not the wall clock."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Served:
    """A running sandbox: its base URL, the world it serves, that world's credentials, its clock."""

    base_url: str
    world: World
    credentials: dict[str, Any]
    clock: FakeClock | None = None

    @property
    def pluggy_url(self) -> str:
        return self.credentials["base_urls"]["pluggy"]

    @property
    def ifood_url(self) -> str:
        return self.credentials["base_urls"]["ifood"]

    def tenant(self, index: int = 0) -> dict[str, Any]:
        return self.credentials["tenants"][index]


def pluggy_key(client: httpx.Client, served: Served, tenant: int = 0) -> dict[str, str]:
    creds = served.tenant(tenant)["pluggy"]
    reply = client.post("/pluggy/auth", json={"clientId": creds["client_id"], "clientSecret": creds["client_secret"]})
    assert reply.status_code == 200, reply.text
    return {"X-API-KEY": reply.json()["apiKey"]}


def ifood_bearer(client: httpx.Client, served: Served, tenant: int = 0) -> dict[str, str]:
    creds = served.tenant(tenant)["ifood"]
    reply = client.post(
        "/ifood/authentication/v1.0/oauth/token",
        data={
            "grantType": "client_credentials",
            "clientId": creds["client_id"],
            "clientSecret": creds["client_secret"],
        },
    )
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['accessToken']}"}
