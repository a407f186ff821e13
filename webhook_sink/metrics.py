"""The sink's Prometheus metrics, in a registry of its own (one per app, so tests can run several).

Counters of accepted deliveries (new, redelivery, dead-lettered) and rejected requests (unknown
provider or integration, each verification failure, too large, database unavailable) by provider and
reason; a request latency histogram; the size of the group commits; and two gauges read from the
inbox when scraped: the queue depth (pending deliveries) and the dead-letter queue's size. The
provider label only ever holds a registered provider's name (or `unknown`), so a scanner cannot
grow the label set.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["CONTENT_TYPE", "SinkMetrics"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class SinkMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            "conciliador_sink_accepted",
            "Deliveries answered 202, by provider and reason (new, redelivery, dead_letter).",
            ["provider", "reason"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "conciliador_sink_rejected",
            "Requests refused, by provider and reason (unknown_provider, unknown_integration, bad_signature, "
            "missing_header, stale_timestamp, too_large, unavailable).",
            ["provider", "reason"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "conciliador_sink_request_seconds",
            "Time from a webhook request's arrival to its answer.",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "conciliador_sink_commit_batch_size",
            "Deliveries stored per group commit.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "conciliador_sink_queue_depth",
            "Deliveries waiting for the worker (status pending).",
            registry=self.registry,
        )
        self.dead_letters = Gauge(
            "conciliador_sink_dead_letter_size",
            "Deliveries in the dead-letter queue (status dead).",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
