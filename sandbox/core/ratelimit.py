"""Per-endpoint, per-client request counters in fixed one-minute windows, like the providers'.

Providers count requests per endpoint and per client (a source IP, an application) in one-minute
windows and answer 429 with their own headers (`Retry-After`, `RateLimit-*`, `X-RateLimit-*`).
The limiter only counts and says how long to wait; each fake API renders its own 429.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request over the limit: the limit, and seconds until the window resets (≥ 1)."""

    limit: int
    reset_s: int


class FixedWindowLimiter:
    """`limit` requests per `window_s` seconds per bucket; `limit=None` (or 0) switches it off."""

    def __init__(self, limit: int | None, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit or None
        self.window_s = window_s
        self._clock = clock
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, endpoint: str, client: str, limit: int | None = None) -> Refusal | None:
        """Count one request; None when allowed, a Refusal when over the limit.

        `limit` overrides the limiter's default for endpoints with their own figure (a token
        endpoint); it is ignored when the limiter is off.
        """
        if self.limit is None:
            return None
        limit = limit or self.limit
        now = self._clock()
        key = (endpoint, client)
        with self._lock:
            started, count = self._windows.get(key, (now, 0))
            if now - started >= self.window_s:
                started, count = now, 0
            count += 1
            self._windows[key] = (started, count)
        if count <= limit:
            return None
        return Refusal(limit=limit, reset_s=max(1, math.ceil(started + self.window_s - now)))

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
