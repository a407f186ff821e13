"""The sandbox registry: the one list of the platforms the sandbox generates and serves.

Everything that spans platforms loops over `PLATFORMS`, in this order: `WorldConfig`'s knobs and
`World`'s composition (sandbox.world), the server's mounts at `/<name>/`, the fault injection and
request log (sandbox.server, sandbox.core.control), `ServerOptions` (sandbox.options), the
credentials (`World.credentials`) and the `conciliador sandbox` CLI. Adding a platform is adding
its package under `sandbox/providers/` and one line here.

Two platforms have a role in every world: `STORES` founds the stores (the world's stores are its
merchants) and `BANK` opens their accounts and serves the shared ledger where every platform's
payouts land.
"""

from __future__ import annotations

from sandbox.core.platform import SandboxPlatform
from sandbox.providers.asaas.platform import ASAAS
from sandbox.providers.hotmart.platform import HOTMART
from sandbox.providers.ifood.platform import IFOOD
from sandbox.providers.kiwify.platform import KIWIFY
from sandbox.providers.mercadopago.platform import MERCADOPAGO
from sandbox.providers.pluggy.platform import PLUGGY
from sandbox.providers.pushinpay.platform import PUSHINPAY
from sandbox.providers.stripe.platform import STRIPE

PLATFORMS: tuple[SandboxPlatform, ...] = (
    PLUGGY,
    IFOOD,
    STRIPE,
    ASAAS,
    MERCADOPAGO,
    PUSHINPAY,
    HOTMART,
    KIWIFY,
)
BANK = PLUGGY.name
STORES = IFOOD.name

_BY_NAME = {p.name: p for p in PLATFORMS}
if len(_BY_NAME) != len(PLATFORMS):
    raise RuntimeError("two sandbox platforms share a name")


def platform(name: str) -> SandboxPlatform:
    """The registered platform called `name`; KeyError naming the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no sandbox platform {name!r}; known: {', '.join(_BY_NAME)}") from None


def names() -> tuple[str, ...]:
    return tuple(_BY_NAME)
