"""How the fake APIs behave, apart from the world they serve: one set of knobs per registered platform.

`ServerOptions()` holds every platform's defaults (its own options class, e.g. rate limits and
token lifetimes) plus the knobs the server shares (rate-limit window, request-log size). Change
one platform's with `with_platform(name, **changes)`, every limiter at once with
`with_rate_limit(n)` (0 or None: off, as benchmarks need).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from sandbox.core.platform import PlatformOptions
from sandbox.registry import PLATFORMS, platform


def _defaults() -> Mapping[str, PlatformOptions]:
    return MappingProxyType({p.name: p.options() for p in PLATFORMS})


@dataclass(frozen=True)
class ServerOptions:
    """Knobs of the fake platforms: shared ones here, each platform's in `platforms[name]`."""

    rate_limit_window_s: float = 60.0
    request_log_size: int = 10_000
    platforms: Mapping[str, PlatformOptions] = field(default_factory=_defaults)

    def __post_init__(self) -> None:
        if self.rate_limit_window_s <= 0:
            raise ValueError("rate_limit_window_s must be positive")
        if self.request_log_size < 1:
            raise ValueError("request_log_size must be at least 1")
        given = dict(self.platforms)
        unknown = sorted(set(given) - {p.name for p in PLATFORMS})
        if unknown:
            raise ValueError(f"no sandbox platform {', '.join(unknown)}")
        # A platform left out keeps its defaults; read-only, so the frozen options stay as they are.
        complete = {p.name: given.get(p.name) or p.options() for p in PLATFORMS}
        object.__setattr__(self, "platforms", MappingProxyType(complete))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as a plain dict: a read-only mapping does not pickle, and the options cross into
        a server started in its own process (the benchmarks' spawn context)."""
        return (ServerOptions, (self.rate_limit_window_s, self.request_log_size, dict(self.platforms)))

    def of(self, name: str) -> Any:
        """The options of the platform called `name` (its own options class)."""
        platform(name)
        return self.platforms[name]

    def with_platform(self, name: str, **changes: Any) -> ServerOptions:
        """These options with some of one platform's knobs changed (`with_platform(name, rate_limit=10)`)."""
        updated = {**self.platforms, name: replace(self.of(name), **changes)}
        return replace(self, platforms=updated)

    def with_rate_limit(self, per_minute: int | None) -> ServerOptions:
        """Every platform's limiters at `per_minute` (None or 0 = all off); a platform keeps a lower documented figure."""
        return replace(self, platforms={name: o.with_rate_limit(per_minute) for name, o in self.platforms.items()})

    def rate_limits(self) -> dict[str, int | None]:
        """Every limiter by name (`<platform>` or `<platform>_<limiter>`), as the health answer shows them."""
        return {
            (name if not suffix else f"{name}_{suffix}"): limit
            for name, options in self.platforms.items()
            for suffix, limit in options.rate_limits().items()
        }
