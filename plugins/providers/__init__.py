"""Provider integrations: one package per platform (`<name>/`), shared pieces once at this level.

`base.py` (the interface: Interval, RawRecord, Provider, WebhookScheme, NormalizedEvent),
`transport.py` (HTTP: timeouts, retries, pagination, strict decoding), `shapes.py` (field types
for response shapes), `errors.py`, `webhooks.py` (constant-time comparison, HMAC, timestamp
tolerance, signature headers) and `registry.py`, the one list of providers everything else
derives from.
"""
