"""The demo's own database holds one sandbox world, and its verdict line agrees with its counts."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from cli.demo import Agreement, demo_warehouse
from ingestion.warehouse import database_url, drop_database
from sandbox.world import World, WorldConfig


@pytest.fixture
def demo_name(warehouse_url: str, monkeypatch: pytest.MonkeyPatch):
    # The demo runs against the embedded server itself, not the session's test database.
    monkeypatch.delenv("DATABASE_URL")
    name = f"conciliador_demo_test_{uuid.uuid4().hex[:8]}"
    yield name
    drop_database(name)


def _mark(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("insert into control.tolerances (tenant_id, note) values ('marker', 'left by the first world')")


def _marked(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("select count(*) from control.tolerances where tenant_id = 'marker'").fetchone()[0] == 1


def test_the_same_world_keeps_its_database_and_another_world_resets_it(demo_name: str) -> None:
    server = database_url()
    small = {"tenants": 1, "stores_per_tenant": 1, "days": 2, "orders_per_day": 2}
    first, second = World(WorldConfig(seed=1, **small)), World(WorldConfig(seed=2, **small))

    url = demo_warehouse(server, first, database=demo_name)
    assert url.endswith(f"/{demo_name}")
    _mark(url)
    assert demo_warehouse(server, World(WorldConfig(seed=1, **small)), database=demo_name) == url
    assert _marked(url), "rerunning the same world keeps its data"
    demo_warehouse(server, second, database=demo_name)
    assert not _marked(url), "another world starts from an empty database"


TRUTH = {("t", f"o{i}"): {"status": "reconciled", "reason": None} for i in range(4)}


@pytest.mark.parametrize(
    ("rows", "all_match", "says"),
    [
        ([("t", f"o{i}", "reconciled", None) for i in range(4)], True, "4 of 4 ground-truth orders"),
        (
            [*[("t", f"o{i}", "reconciled", None) for i in range(4)], ("other", "x", "reconciled", None)],
            False,
            "the mart has 1 orders the world does not know",
        ),
        ([("t", f"o{i}", "reconciled", None) for i in range(3)], False, "1 are missing from the mart"),
        (
            [*[("t", f"o{i}", "reconciled", None) for i in range(3)], ("t", "o3", "divergent", "late_payment")],
            False,
            "1 have another status or reason",
        ),
    ],
)
def test_the_verdict_follows_the_counts(rows, all_match: bool, says: str) -> None:
    agreement = Agreement.of(TRUTH, rows)
    assert agreement.all_match is all_match
    line = agreement.line()
    assert says in line
    assert line.endswith("all match[/green]") is all_match
    assert agreement.matching + agreement.differing + agreement.missing == agreement.truth
