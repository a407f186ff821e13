"""The embedded warehouse: one server per checkout, password authentication, a non-superuser pipeline."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import psycopg
import pytest

from ingestion import pg_auth, pg_binaries
from ingestion.errors import UserError
from ingestion.pg_server import DATABASE_NAME
from ingestion.warehouse import EmbeddedServer, admin_url, check_reachable, database_url, prepare_warehouse


def test_a_second_checkout_gets_its_own_server_not_the_one_on_its_port(
    warehouse_url: str, other_checkout_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy_port = psycopg.conninfo.conninfo_to_dict(warehouse_url)["port"]
    monkeypatch.setenv("CONCILIADOR_PG_PORT", str(busy_port))
    assert not EmbeddedServer.default().is_running(), "the server on that port belongs to another data directory"
    url = database_url()
    started = EmbeddedServer.default()
    assert started.port != int(busy_port)
    assert started.is_running()
    with psycopg.connect(admin_url()) as conn:
        served = conn.execute("select current_setting('data_directory')").fetchone()[0]
    assert served == str((other_checkout_home / "pgdata").resolve())
    assert database_url() == url, "a second call reuses the running server"
    assert EmbeddedServer.default().stop()
    assert not EmbeddedServer.default().is_running()


def test_the_embedded_server_wants_passwords_and_the_pipeline_is_no_superuser(other_checkout_home: Path) -> None:
    url = prepare_warehouse()
    parts = psycopg.conninfo.conninfo_to_dict(url)
    assert parts["user"] == pg_auth.OWNER and parts["dbname"] == DATABASE_NAME

    passwords_file = other_checkout_home / "pgpass"
    assert stat.S_IMODE(passwords_file.stat().st_mode) == 0o600
    assert _auth_methods(other_checkout_home / "pgdata") == {"scram-sha-256"}

    for user in (pg_auth.OWNER, pg_auth.SUPERUSER):
        for password in ("wrong", ""):
            with pytest.raises(psycopg.OperationalError, match=r"password authentication failed|no password supplied"):
                psycopg.connect(f"host=127.0.0.1 port={parts['port']} dbname=postgres user={user} password='{password}'")

    with psycopg.connect(url) as conn:
        superuser, createrole, createdb = conn.execute(
            "select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user"
        ).fetchone()
        assert (superuser, createrole, createdb) == (False, False, False)
        owners = dict(
            conn.execute(
                "select nspname, nspowner::regrole::text from pg_namespace where nspname in ('raw', 'ops', 'control')"
            ).fetchall()
        )
        assert owners == dict.fromkeys(("raw", "ops", "control"), pg_auth.OWNER)
        conn.execute("create schema marts")  # dbt creates its schemas as this role
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("copy (select 1) to program 'true'")


def test_a_trust_era_data_directory_is_secured_in_place(other_checkout_home: Path) -> None:
    """What earlier versions left: trust authentication, every object the superuser's, a port file."""
    pgdata = other_checkout_home / "pgdata"
    port = _start_trust_era_server(pgdata)
    old = f"postgresql://postgres@127.0.0.1:{port}"
    with psycopg.connect(f"{old}/postgres", autocommit=True) as conn:
        conn.execute(f"create database {DATABASE_NAME}")
    with psycopg.connect(f"{old}/{DATABASE_NAME}", autocommit=True) as conn:
        conn.execute("create schema raw; create table raw.kept (id bigserial primary key, note text)")
        conn.execute("insert into raw.kept (note) values ('loaded before the upgrade')")
        conn.execute("create schema marts; create view marts.v as select note from raw.kept")
    (other_checkout_home / "warehouse.json").write_text(json.dumps({"port": port}))
    assert not (other_checkout_home / "pgpass").exists()

    url = prepare_warehouse()

    assert _auth_methods(pgdata) == {"scram-sha-256"}
    assert psycopg.conninfo.conninfo_to_dict(url)["port"] == str(port), "the same server, secured while running"
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(f"{old}/postgres?password=anything")
    with psycopg.connect(url) as conn:
        assert conn.execute("select note from marts.v").fetchone()[0] == "loaded before the upgrade"
        conn.execute("insert into raw.kept (note) values ('written by the owner role')")
        conn.execute("drop view marts.v")  # dbt replaces what it built earlier
        owners = set(
            conn.execute(
                "select nspowner::regrole::text from pg_namespace where nspname in ('raw', 'marts', 'ops', 'control')"
            ).fetchall()
        )
        assert owners == {(pg_auth.OWNER,)}


def test_a_data_directory_of_another_major_version_is_one_clear_sentence(other_checkout_home: Path) -> None:
    pgdata = other_checkout_home / "pgdata"
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("16\n")
    with pytest.raises(UserError, match=r"holds a PostgreSQL 16 warehouse .* cannot open: carry it over with"):
        database_url()


def test_lost_passwords_are_explained_and_can_be_reset(other_checkout_home: Path) -> None:
    prepare_warehouse()
    (other_checkout_home / "pgpass").unlink()
    with pytest.raises(UserError, match="pgpass is missing: put the file back, or run `conciliador db down`"):
        database_url()
    server = EmbeddedServer.default()
    with pytest.raises(UserError, match="Stop the embedded warehouse first"):
        server.reset_passwords()
    assert server.stop()
    server.reset_passwords()
    with psycopg.connect(prepare_warehouse()) as conn:
        assert conn.execute("select current_user").fetchone()[0] == pg_auth.OWNER


def test_an_unreachable_database_url_is_one_clear_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone:hunter2@127.0.0.1:1/db")
    with pytest.raises(UserError, match="Cannot connect to DATABASE_URL") as error:
        check_reachable(database_url())
    assert "hunter2" not in str(error.value), "passwords never reach messages"


def _auth_methods(pgdata: Path) -> set[str]:
    methods = set()
    for line in (pgdata / "pg_hba.conf").read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            methods.add(fields[3] if fields[0] == "local" else fields[4])
    return methods


def _start_trust_era_server(pgdata: Path) -> int:
    """initdb --auth=trust and pg_ctl start, the way versions before password authentication did."""
    import socket

    user = pg_binaries.os_user()
    pgdata.mkdir(parents=True)
    pg_binaries.hand_over(pgdata, user)
    bins = pg_binaries.bin_dir()
    log = pgdata.parent / "postgres.log"
    pg_binaries.run(
        [str(bins / "initdb"), "-D", str(pgdata), "--auth=trust", "--encoding=UTF8", "--locale=C", "-U", "postgres"],
        user,
        log_file=log,
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log.touch()
    pg_binaries.hand_over(log, user)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories=''"
    pg_binaries.run(
        [str(bins / "pg_ctl"), "-D", str(pgdata), "-l", str(log), "-o", options, "-w", "start"], user, log_file=log
    )
    return port
