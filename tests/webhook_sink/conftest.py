"""Fixtures for the webhook sink's tests: a sandbox world's integrations and a sink on a real socket.

One sink (uvicorn in a thread, the real app, the test warehouse) and one set of integrations per
module: the world's tenant gets an integration per provider account, each with the webhook secret
the sandbox signs its deliveries with (as `conciliador demo` registers them).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sink_support import KNOBS, MAX_BODY, Sink

from cli.demo import register_sandbox_integrations
from ingestion import integrations
from ingestion.vault import Keyring
from sandbox.world import World, WorldConfig
from webhook_sink.app import create_app
from webhook_sink.server import start_in_thread
from webhook_sink.state import SinkSettings


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldConfig(**KNOBS))


@pytest.fixture(scope="module")
def registered(clean_module_warehouse: str, world: World) -> dict[str, integrations.Integration]:
    """provider -> its (one) integration for the world's tenant, with the sandbox's webhook secret."""
    added = register_sandbox_integrations(clean_module_warehouse, world.credentials("http://127.0.0.1:9"))
    return {provider: integration for provider, _, integration in added}


@pytest.fixture(scope="module")
def sink(clean_module_warehouse: str, registered: dict) -> Iterator[Sink]:
    app = create_app(
        SinkSettings(clean_module_warehouse, max_body_bytes=MAX_BODY, secret_refresh_s=0.3), keyring=Keyring.load()
    )
    base, stop = start_in_thread(app)
    with httpx.Client(timeout=20) as client:
        yield Sink(base, app.state.sink, client)
    stop()
