"""The provider registry: the one list of providers, and everything other parts derive from it.

Adding a platform is one line in `PROVIDERS`. Nothing outside a provider's own package names it:
the raw writer and the warehouse bootstrap take every raw table and its key column from
`RAW_TABLES`, `integrations add` validates fields through `provider_class`, the DAG syncs whatever
integrations exist of registered providers, and the demo registers the providers the sandbox
serves credentials for. Importing this module imports every provider package; shared modules
(ingestion/) therefore import it inside the functions that need it, never at their top, so a
provider may use them without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from plugins.providers.asaas.provider import AsaasProvider
from plugins.providers.base import Provider
from plugins.providers.errors import UnknownProviderError
from plugins.providers.hotmart.provider import HotmartProvider
from plugins.providers.ifood.provider import IfoodProvider
from plugins.providers.kiwify.provider import KiwifyProvider
from plugins.providers.mercadopago.provider import MercadoPagoProvider
from plugins.providers.pluggy.provider import PluggyProvider
from plugins.providers.pushinpay.provider import PushinPayProvider
from plugins.providers.stripe.provider import StripeProvider

# One line per provider, in this order everywhere (CLI listings, the DAG's mapping, the demo).
_CLASSES: tuple[type[Provider], ...] = (
    PluggyProvider,
    IfoodProvider,
    StripeProvider,
    MercadoPagoProvider,
    AsaasProvider,
    PushinPayProvider,
    HotmartProvider,
    KiwifyProvider,
)
PROVIDERS: Mapping[str, type[Provider]] = MappingProxyType({cls.name: cls for cls in _CLASSES})


def provider_class(name: str) -> type[Provider]:
    try:
        return PROVIDERS[name]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise UnknownProviderError(f"Unknown provider {name!r}; known providers: {known}.") from None


def _raw_tables() -> dict[str, str]:
    """Every provider's landing tables (sync's and webhooks'), each claimed by exactly one provider."""
    tables: dict[str, str] = {}
    owners: dict[str, str] = {}
    for name, cls in PROVIDERS.items():
        for table, key in cls.landing_tables().items():
            if table in owners:
                raise TypeError(f"raw table {table!r} is declared by both {owners[table]} and {name}")
            owners[table], tables[table] = name, key
    return tables


# raw table -> the one extracted key column it carries (see ingestion/schema.sql)
RAW_TABLES: Mapping[str, str] = MappingProxyType(_raw_tables())
