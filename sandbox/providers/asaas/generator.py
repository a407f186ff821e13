"""Asaas's part in building a world: sign tenants up, open one Asaas account per store, tell the story.

`sign_up` must not draw from the shared parties stream it is handed (the older platforms' worlds
would move): the tenant's root account id and API key come from stream ("asaas", "sign-up",
tenant). Each store's account (API key, webhook token, wallet, how it transfers) comes from stream
("asaas", "account", store index); the story (`story.AsaasStory`) from streams of its own.
"""

from __future__ import annotations

import base64
import random
import re
import unicodedata
from collections.abc import Sequence

from sandbox.core.bank import PlannedCredit
from sandbox.core.ids import secret, uuid4
from sandbox.core.parties import ClientCredentials, Parties
from sandbox.core.payments.checkout import catalogue
from sandbox.core.platform import PostedBank
from sandbox.core.streams import stream
from sandbox.providers.asaas import NAME
from sandbox.providers.asaas.contract import fee_schedule
from sandbox.providers.asaas.facts import AsaasFacts
from sandbox.providers.asaas.knobs import AsaasKnobs
from sandbox.providers.asaas.records import AsaasAccount
from sandbox.providers.asaas.story import AsaasStory

KEY_PREFIX = "$aact_hmlg_000"  # Asaas Sandbox keys; production keys start $aact_prod_000


def api_key(rng: random.Random) -> str:
    """An Asaas-shaped API key: `$aact_hmlg_000` + base64 of `<32 hex>::<uuid>::$aach_<uuid>`."""
    raw = f"{rng.getrandbits(128):032x}::{uuid4(rng)}::$aach_{uuid4(rng)}"
    return KEY_PREFIX + base64.b64encode(raw.encode()).decode()


def slug(text: str) -> str:
    """`Cantina Bella Napoli 1.2` → `cantina-bella-napoli-1-2`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


class AsaasGenerator:
    """Generates one world's Asaas facts (the `PlatformGenerator` of sandbox.core.platform)."""

    def __init__(self, config: AsaasKnobs) -> None:
        self.config = config
        self._story: AsaasStory | None = None

    def sign_up(self, tenant_id: str, rng: random.Random) -> ClientCredentials:
        """The tenant's root Asaas account (id, API key), from Asaas's own stream (never `rng`)."""
        own = stream(self.config.seed, NAME, "sign-up", tenant_id)
        return ClientCredentials(uuid4(own), api_key(own))

    def plan(self, parties: Parties) -> Sequence[PlannedCredit]:
        """Every store's account, its payments, statement and transfers; the transfers' bank credits."""
        cfg = self.config
        accounts = []
        position_in_tenant: dict[str, int] = {}
        for index, store in enumerate(parties.stores):
            own = stream(cfg.seed, NAME, "account", index)
            position = position_in_tenant.get(store.tenant_id, 0)
            position_in_tenant[store.tenant_id] = position + 1
            accounts.append(
                AsaasAccount(
                    tenant_id=store.tenant_id,
                    store=store,
                    name=slug(store.name),
                    api_key=api_key(own),
                    webhook_secret=secret(own, 48),
                    wallet_id=uuid4(own),
                    operation_type="PIX" if position % 2 == 0 else "TED",
                )
            )
        tenant_ids = [t.tenant_id for t in parties.tenants]
        catalogues = {t: catalogue(cfg.seed, t, cfg.start, cfg.days) for t in tenant_ids}
        fee_rows = fee_schedule(NAME, tenant_ids, cfg.start, cfg.days)
        self._story = AsaasStory(cfg, accounts, catalogues, fee_rows)
        self._story.build()
        return tuple(self._story.planned)

    def finish(self, bank: PostedBank) -> AsaasFacts:
        if self._story is None:
            raise RuntimeError("plan must run before finish")
        return AsaasFacts.from_story(self._story, bank)
