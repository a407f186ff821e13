"""Mercado Pago's line in the sandbox registry: its generator, knobs, fake API, server options, error envelope."""

from __future__ import annotations

from sandbox.core.platform import SandboxPlatform
from sandbox.providers.mercadopago import NAME
from sandbox.providers.mercadopago.api import MercadoPagoApi, error_body_of
from sandbox.providers.mercadopago.generator import MercadoPagoGenerator
from sandbox.providers.mercadopago.knobs import MercadoPagoKnobs
from sandbox.providers.mercadopago.options import MercadoPagoOptions
from sandbox.providers.mercadopago.webhooks import deliveries

MERCADOPAGO = SandboxPlatform(
    name=NAME,
    title="Mercado Pago",
    generator=MercadoPagoGenerator,
    options=MercadoPagoOptions,
    api=MercadoPagoApi,
    error_body=error_body_of,
    knobs=MercadoPagoKnobs,
    webhooks=deliveries,
)
