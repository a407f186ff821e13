"""The embedded warehouse: one server per checkout, even when another holds the port."""

from __future__ import annotations

import psycopg
import pytest

from ingestion.errors import UserError
from ingestion.warehouse import EmbeddedServer, check_reachable, database_url


def test_a_second_checkout_gets_its_own_server_not_the_one_on_its_port(
    warehouse_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy_port = psycopg.conninfo.conninfo_to_dict(warehouse_url)["port"]
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("CONCILIADOR_HOME", str(tmp_path / "other-checkout"))
    monkeypatch.setenv("CONCILIADOR_PG_PORT", str(busy_port))
    server = EmbeddedServer.default()
    assert not server.is_running(), "the server on that port belongs to another data directory"
    url = database_url()
    try:
        started = EmbeddedServer.default()
        assert started.port != int(busy_port)
        assert started.is_running()
        with psycopg.connect(url) as conn:
            served = conn.execute("select current_setting('data_directory')").fetchone()[0]
        assert served == str((tmp_path / "other-checkout" / "pgdata").resolve())
        assert database_url() == url, "a second call reuses the running server"
    finally:
        assert EmbeddedServer.default().stop()
    assert not EmbeddedServer.default().is_running()


def test_an_unreachable_database_url_is_one_clear_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone:hunter2@127.0.0.1:1/db")
    with pytest.raises(UserError, match="Cannot connect to DATABASE_URL") as error:
        check_reachable(database_url())
    assert "hunter2" not in str(error.value), "passwords never reach messages"
