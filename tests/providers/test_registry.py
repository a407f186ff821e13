"""The registry is the one list: what every provider declares, and who derives from it.

A provider's raw tables, credential fields and webhook scheme are declared once, on its class;
the warehouse bootstrap, the raw writer, `integrations add` and the demo read them from the
registry. These tests hold the declarations to what those readers need, and keep shared modules
from naming a provider again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

import psycopg
import pytest

from cli.credentials_input import secret_fields
from plugins.providers.base import EMPTY, Interval, Provider, RawRecord, WebhookScheme
from plugins.providers.registry import PROVIDERS, RAW_TABLES

ROOT = Path(__file__).resolve().parents[2]
# Shared code: it works for every provider, so it names none (the registry is the one exception).
SHARED = [
    *sorted((ROOT / "ingestion").glob("*.py")),
    *sorted((ROOT / "ingestion").glob("*.sql")),
    *sorted((ROOT / "dags").glob("*.py")),
    *sorted((ROOT / "webhook_sink").glob("*.py")),
    *sorted(p for p in (ROOT / "plugins" / "providers").glob("*.py") if p.name != "registry.py"),
]


@pytest.mark.parametrize("cls", PROVIDERS.values(), ids=list(PROVIDERS))
def test_every_provider_declares_what_its_readers_need(cls: type[Provider]) -> None:
    assert PROVIDERS[cls.name] is cls
    assert cls.credential_fields and cls.external_id_fields
    assert cls.secret_fields and set(cls.secret_fields) <= set(cls.credential_fields)
    assert secret_fields(cls) == cls.secret_fields, "the CLI takes the declaration, not a guess from names"
    assert cls.raw_tables and all(table.startswith(f"{cls.name}_") for table in cls.landing_tables())
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for pair in cls.landing_tables().items() for name in pair)
    assert cls.webhook is None or isinstance(cls.webhook, WebhookScheme)


def test_raw_tables_are_every_providers_sync_and_webhook_tables() -> None:
    union = {table: key for cls in PROVIDERS.values() for table, key in cls.landing_tables().items()}
    assert dict(RAW_TABLES) == union
    assert sum(len(cls.landing_tables()) for cls in PROVIDERS.values()) == len(RAW_TABLES), "one owner per table"


def test_a_table_keyed_differently_by_sync_and_webhook_is_refused() -> None:
    class Scheme(WebhookScheme):
        raw_tables: ClassVar[Mapping[str, str]] = {"demo_events": "account_id"}

        def verify(
            self, secret: str, headers: Mapping[str, str], raw_body: bytes, *, query: Mapping[str, str] = EMPTY
        ) -> None:
            raise NotImplementedError

        def parse(self, raw_body: bytes):
            raise NotImplementedError

    class Demo(Provider):
        name = "demo"
        raw_tables: ClassVar[Mapping[str, str]] = {"demo_events": "store_id"}
        webhook = Scheme()

        def sync(self, interval: Interval) -> Iterator[RawRecord]:
            yield from ()

    with pytest.raises(TypeError, match="'demo_events' keyed by 'store_id' for sync but 'account_id' for webhooks"):
        Demo.landing_tables()


def test_the_warehouse_has_every_raw_table_with_its_key_column(warehouse_url: str) -> None:
    with psycopg.connect(warehouse_url) as conn:
        columns = set(
            conn.execute(
                "select table_name, column_name from information_schema.columns where table_schema = 'raw'"
            ).fetchall()
        )
    assert {(table, key) for table, key in RAW_TABLES.items()} <= columns


@pytest.mark.parametrize("path", SHARED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shared_modules_name_no_provider(path: Path) -> None:
    names = re.compile("|".join(map(re.escape, PROVIDERS)), re.IGNORECASE)
    hits = [f"{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1) if names.search(line)]
    assert not hits, f"{path.relative_to(ROOT)} names a provider; derive it from the registry:\n" + "\n".join(hits)
