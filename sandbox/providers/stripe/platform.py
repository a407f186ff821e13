"""Stripe's line in the sandbox registry: its generator, knobs, fake API, server options, error envelope."""

from __future__ import annotations

from sandbox.core.platform import SandboxPlatform
from sandbox.providers.stripe import NAME
from sandbox.providers.stripe.api import StripeApi, error_body
from sandbox.providers.stripe.generator import StripeGenerator
from sandbox.providers.stripe.knobs import StripeKnobs
from sandbox.providers.stripe.options import StripeOptions
from sandbox.providers.stripe.webhooks import deliveries

STRIPE = SandboxPlatform(
    name=NAME,
    title="Stripe",
    generator=StripeGenerator,
    options=StripeOptions,
    api=StripeApi,
    error_body=error_body,
    knobs=StripeKnobs,
    webhooks=deliveries,
)
