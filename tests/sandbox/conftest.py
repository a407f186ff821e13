"""Fixtures for the sandbox tests: one small world, served once per session on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from served_sandbox import SMALL, TINY, FakeClock, Served

from sandbox.options import ServerOptions
from sandbox.server import start_in_thread
from sandbox.world import World


@pytest.fixture(scope="session")
def small_world() -> World:
    return World(SMALL)


@pytest.fixture(scope="session")
def served(small_world: World) -> Iterator[Served]:
    """The small world with rate limiting off, so functional tests never trip over it, on a clock
    the tests advance (on-demand reports are `processed` once it has moved past their delay)."""
    clock = FakeClock()
    base_url, stop = start_in_thread(small_world, port=0, options=ServerOptions().with_rate_limit(None), clock=clock)
    yield Served(base_url, small_world, small_world.credentials(base_url), clock)
    stop()


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.base_url, timeout=30) as client:
        client.delete("/_sandbox/faults")
        yield client
        client.delete("/_sandbox/faults")


@pytest.fixture(scope="module")
def limited() -> Iterator[tuple[str, World, FakeClock]]:
    """A tiny world served with low limits in 1.5-second windows, on a clock the tests advance."""
    world = World(TINY)
    clock = FakeClock()
    options = (
        ServerOptions(rate_limit_window_s=1.5)
        .with_platform("pluggy", rate_limit=3)
        .with_platform("ifood", rate_limit=2, token_rate_limit=2)
    )
    base_url, stop = start_in_thread(world, port=0, options=options, clock=clock)
    yield base_url, world, clock
    stop()
