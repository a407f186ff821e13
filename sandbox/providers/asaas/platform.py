"""Asaas's line in the sandbox registry: its generator, knobs, fake API, server options, error envelope."""

from __future__ import annotations

from sandbox.core.platform import SandboxPlatform
from sandbox.providers.asaas import NAME
from sandbox.providers.asaas.api import AsaasApi, error_body
from sandbox.providers.asaas.generator import AsaasGenerator
from sandbox.providers.asaas.knobs import AsaasKnobs
from sandbox.providers.asaas.options import AsaasOptions
from sandbox.providers.asaas.webhooks import deliveries

ASAAS = SandboxPlatform(
    name=NAME,
    title="Asaas",
    generator=AsaasGenerator,
    options=AsaasOptions,
    api=AsaasApi,
    error_body=error_body,
    knobs=AsaasKnobs,
    webhooks=deliveries,
)
