"""Hotmart's line in the sandbox registry: its generator, knobs, fake API, server options, error envelope."""

from __future__ import annotations

from sandbox.core.platform import SandboxPlatform
from sandbox.providers.hotmart import NAME
from sandbox.providers.hotmart.api import HotmartApi, error_body
from sandbox.providers.hotmart.generator import HotmartGenerator
from sandbox.providers.hotmart.knobs import HotmartKnobs
from sandbox.providers.hotmart.options import HotmartOptions
from sandbox.providers.hotmart.webhooks import deliveries

HOTMART = SandboxPlatform(
    name=NAME,
    title="Hotmart",
    generator=HotmartGenerator,
    options=HotmartOptions,
    api=HotmartApi,
    error_body=error_body,
    knobs=HotmartKnobs,
    webhooks=deliveries,
)
