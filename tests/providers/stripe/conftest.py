"""What the Stripe client tests share: the sandbox's Stripe served over a real socket, and its facts.

The world is the provider tests' (tests/providers/served_clients.py) with more Stripe orders a day,
so that each account has refunds, disputes and more than one page (100) of charges: every raw
table of the provider then lands, and paging is exercised by the world itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pytest

from plugins.providers.base import Interval
from plugins.providers.stripe.client import StripeClient
from plugins.providers.stripe.provider import StripeProvider
from plugins.providers.transport import RetryPolicy, TransportOptions
from sandbox.providers.stripe.facts import StripeFacts
from sandbox.server import start_in_thread
from sandbox.world import World

from ..served_clients import CONFIG, FIRST, Sleeps, without_faults

WORLD = replace(CONFIG, stripe_orders_per_day=24)


@dataclass(frozen=True)
class StripeSandbox:
    base_url: str  # the sandbox's root (its control surface lives there)
    url: str  # Stripe's base URL in the sandbox (`…/stripe`)
    world: World
    accounts: list[dict[str, Any]]  # the tenant's Stripe accounts as the sandbox lists their credentials

    @property
    def facts(self) -> StripeFacts:
        facts = self.world.facts["stripe"]
        assert isinstance(facts, StripeFacts)
        return facts

    @property
    def everything(self) -> Interval:
        """From the world's first day to its as-of day: everything the served world holds (it stops
        at noon of the as-of day)."""
        return Interval.for_dates(FIRST, self.world.as_of)

    def days(self, first: date, last: date) -> Interval:
        return Interval.for_dates(first, last)

    def client(self, account: int = 0, *, key: str | None = None, sleep: Sleeps | None = None) -> StripeClient:
        options = TransportOptions(retry=RetryPolicy(max_retries=2), sleep=sleep if sleep is not None else Sleeps())
        return StripeClient(key or self.accounts[account]["secret_key"], base_url=self.url, options=options)

    def provider(self, account: int = 0, *, key: str | None = None) -> StripeProvider:
        entry = self.accounts[account]
        return StripeProvider(
            credentials={"secret_key": key or entry["secret_key"]},
            external_ids={"payout_documents": entry["payout_documents"]},
            base_url=self.url,
            transport=TransportOptions(retry=RetryPolicy(max_retries=2), sleep=Sleeps()),
        )


@pytest.fixture(scope="package")
def stripe_sandbox() -> Iterator[StripeSandbox]:
    world = World(WORLD)
    base_url, stop = start_in_thread(world, port=0)
    credentials = world.credentials(base_url)
    try:
        yield StripeSandbox(
            base_url, credentials["base_urls"]["stripe"], world, credentials["tenants"][0]["stripe"]["accounts"]
        )
    finally:
        stop()


@pytest.fixture
def no_faults(stripe_sandbox: StripeSandbox) -> Iterator[None]:
    yield from without_faults(stripe_sandbox.base_url)
