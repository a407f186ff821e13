"""Pluggy's line in the sandbox registry: its generator, fake API, server options and error envelope (no knobs)."""

from __future__ import annotations

from sandbox.core.platform import SandboxPlatform
from sandbox.providers.pluggy import NAME
from sandbox.providers.pluggy.api import PluggyApi, error_body
from sandbox.providers.pluggy.generator import PluggyGenerator
from sandbox.providers.pluggy.options import PluggyOptions

PLUGGY = SandboxPlatform(
    name=NAME,
    title="Pluggy",
    generator=PluggyGenerator,
    options=PluggyOptions,
    api=PluggyApi,
    error_body=error_body,
)
