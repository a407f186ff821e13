"""What a running sink holds: its settings, the group committer, the target cache, the metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from webhook_sink.group_commit import GroupCommitter
from webhook_sink.metrics import SinkMetrics
from webhook_sink.secrets import TargetCache

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SinkSettings:
    """`max_body_bytes`: larger bodies are refused with 413 (no platform's notification comes near 1 MiB).
    `writers`, `max_batch`: the group committer's connections and largest batch. `retry_after_s`: what
    a 503 tells the platform. `secret_refresh_s`: how often cached secrets are checked for rotation."""

    database_url: str = field(repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    writers: int = 2
    max_batch: int = 256
    commit_timeout_s: float = 10.0
    retry_after_s: int = 5
    secret_refresh_s: float = 5.0


@dataclass
class SinkState:
    settings: SinkSettings
    committer: GroupCommitter
    targets: TargetCache
    metrics: SinkMetrics
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
