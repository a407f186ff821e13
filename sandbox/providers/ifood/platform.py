"""iFood's line in the sandbox registry: its generator, knobs, fake API, server options, error envelope."""

from __future__ import annotations

from sandbox.core.platform import SandboxPlatform
from sandbox.providers.ifood import NAME
from sandbox.providers.ifood.api import IfoodApi, error_body
from sandbox.providers.ifood.generator import IfoodGenerator
from sandbox.providers.ifood.knobs import IfoodKnobs
from sandbox.providers.ifood.options import IfoodOptions

IFOOD = SandboxPlatform(
    name=NAME,
    title="iFood",
    generator=IfoodGenerator,
    options=IfoodOptions,
    api=IfoodApi,
    error_body=error_body,
    knobs=IfoodKnobs,
)
