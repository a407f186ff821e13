"""One package per platform the sandbox fakes (`sandbox/providers/<name>/`), each listed once in `sandbox.registry`.

A package holds its platform's facts, their generation, its wire format, its fake API and its
ground truth, and imports nothing of the sandbox but `sandbox.core` and itself — never another
platform's package, never the provider clients of `plugins/` (nor they it).
"""
