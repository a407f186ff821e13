"""PushinPay's line in the sandbox registry: its generator, knobs, fake API, server options, error envelope."""

from __future__ import annotations

from sandbox.core.platform import SandboxPlatform
from sandbox.providers.pushinpay import NAME
from sandbox.providers.pushinpay.api import PushinpayApi, error_body
from sandbox.providers.pushinpay.generator import PushinpayGenerator
from sandbox.providers.pushinpay.knobs import PushinpayKnobs
from sandbox.providers.pushinpay.options import PushinpayOptions
from sandbox.providers.pushinpay.webhooks import deliveries

PUSHINPAY = SandboxPlatform(
    name=NAME,
    title="PushinPay",
    generator=PushinpayGenerator,
    options=PushinpayOptions,
    api=PushinpayApi,
    error_body=error_body,
    knobs=PushinpayKnobs,
    webhooks=deliveries,
)
