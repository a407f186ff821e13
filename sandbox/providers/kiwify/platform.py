"""Kiwify's line in the sandbox registry: its generator, knobs, fake API, server options, error envelope."""

from __future__ import annotations

from sandbox.core.platform import SandboxPlatform
from sandbox.providers.kiwify import NAME
from sandbox.providers.kiwify.api import KiwifyApi, error_body
from sandbox.providers.kiwify.generator import KiwifyGenerator
from sandbox.providers.kiwify.knobs import KiwifyKnobs
from sandbox.providers.kiwify.options import KiwifyOptions
from sandbox.providers.kiwify.webhooks import deliveries

KIWIFY = SandboxPlatform(
    name=NAME,
    title="Kiwify",
    generator=KiwifyGenerator,
    options=KiwifyOptions,
    api=KiwifyApi,
    error_body=error_body,
    knobs=KiwifyKnobs,
    webhooks=deliveries,
)
