"""The sandbox's shared parts: what every platform package builds on, naming no platform.

`calendar`, `ids`, `money`, `streams`: business days, tax ids and UUIDs, centavos, seeded random
streams. `knobs`: the world's own knobs and the helpers platforms declare theirs with. `parties`:
tenants, stores, bank accounts. `counterparties`, `bank`: the bank statements every platform's
payouts land in (a planned credit names its `Payer`). `tokens`, `ratelimit`, `httputil`,
`control`: what the fake APIs share (JWTs, per-minute limits, JSON responses and page caches,
fault injection and the request log). `platform`: the interfaces a platform package implements
and the `SandboxPlatform` entry the registry lists.

Nothing here imports `sandbox.registry`, a platform package or a composition module: which
platforms exist is passed in by the server and the world.
"""
