"""The provider registry: the one place that maps a provider name to its implementation."""

from __future__ import annotations

from plugins.providers.base import Provider
from plugins.providers.errors import UnknownProviderError
from plugins.providers.ifood import IfoodProvider
from plugins.providers.pluggy import PluggyProvider

PROVIDERS: dict[str, type[Provider]] = {cls.name: cls for cls in (PluggyProvider, IfoodProvider)}


def provider_class(name: str) -> type[Provider]:
    try:
        return PROVIDERS[name]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise UnknownProviderError(f"Unknown provider {name!r}; known providers: {known}.") from None
