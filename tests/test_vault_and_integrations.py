"""Credentials at rest: encrypted, bound to their row, rotatable; bad input explained."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys

import psycopg
import pytest

from ingestion import integrations
from ingestion.errors import UserError
from ingestion.settings import PROJECT_ROOT
from ingestion.vault import Keyring, new_key_spec

SECRET = "s3cr3t-value-that-must-not-leak"


def _add(conn: psycopg.Connection, keyring: Keyring, **overrides):
    args = {
        "tenant_id": "tenant-a",
        "provider": "pluggy",
        "credentials": {"client_id": "cid", "client_secret": SECRET},
        "external_ids": {"item_ids": ["item-1"]},
        "webhook_secret": "whsec-xyz",
    }
    args.update(overrides)
    return integrations.add(conn, keyring, **args)


def test_credentials_are_stored_encrypted_and_read_back(clean_warehouse: str) -> None:
    keyring = Keyring.parse(new_key_spec("k1"))
    with psycopg.connect(clean_warehouse) as conn:
        integration = _add(conn, keyring)
        assert integrations.credentials(conn, keyring, integration) == {"client_id": "cid", "client_secret": SECRET}
        dump = conn.execute("select row_to_json(i)::text from control.integrations i").fetchone()[0]
    assert SECRET not in dump and "whsec-xyz" not in dump


def test_a_ciphertext_moved_to_another_row_does_not_open(clean_warehouse: str) -> None:
    keyring = Keyring.parse(new_key_spec("k1"))
    with psycopg.connect(clean_warehouse) as conn:
        a = _add(conn, keyring)
        b = _add(conn, keyring, tenant_id="tenant-b")
        conn.execute(
            "update control.integrations set credentials = (select credentials from control.integrations "
            "where integration_id = %s) where integration_id = %s",
            (a.integration_id, b.integration_id),
        )
        with pytest.raises(UserError, match="integrity check"):
            integrations.credentials(conn, keyring, b)


def test_key_rotation_reseals_under_the_new_primary_key(clean_warehouse: str) -> None:
    old_spec = new_key_spec("old")
    old = Keyring.parse(old_spec)
    with psycopg.connect(clean_warehouse) as conn:
        integration = _add(conn, old)
        both = Keyring.parse(f"{new_key_spec('new')},{old_spec}")
        assert integrations.rotate(conn, both) == 1
        rotated = integrations.get(conn, integration.integration_id)
        assert rotated.key_id == "new"
        new_only = Keyring(primary_id="new", keys={"new": both.keys["new"]})
        assert integrations.credentials(conn, new_only, rotated)["client_secret"] == SECRET
        with pytest.raises(UserError, match="not in CONCILIADOR_SECRET_KEYS"):
            integrations.credentials(conn, old, rotated)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "holds no keys"),
        ("nokey", "key-id:base64key"),
        ("k:not-base64!", "not valid base64"),
        ("k:AAAA", "needs 32"),
    ],
)
def test_malformed_key_specs_are_explained(spec: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        Keyring.parse(spec)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"provider": "bancodobrasil"}, "Unknown provider 'bancodobrasil'"),
        ({"credentials": {"client_id": "x"}}, "needs credentials client_secret"),
        ({"external_ids": {}}, "at least one id in item_ids"),
        ({"base_url": "ftp://x"}, "not an http"),
        ({"tenant_id": " "}, "tenant id is empty"),
    ],
)
def test_bad_integration_input_is_explained(clean_warehouse: str, overrides: dict, message: str) -> None:
    keyring = Keyring.parse(new_key_spec("k1"))
    with psycopg.connect(clean_warehouse) as conn, pytest.raises(UserError, match=message):
        _add(conn, keyring, **overrides)


@pytest.fixture
def key_file_home(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """The embedded default: no CONCILIADOR_SECRET_KEYS, a key file in a state folder of its own."""
    monkeypatch.delenv("CONCILIADOR_SECRET_KEYS", raising=False)
    monkeypatch.setenv("CONCILIADOR_HOME", str(tmp_path))
    return tmp_path / "secret-keys"


def test_a_lost_key_file_is_reported_by_name_and_never_quietly_replaced(clean_warehouse: str, key_file_home) -> None:
    with psycopg.connect(clean_warehouse) as conn:
        first = _add(conn, Keyring.load())
        assert re.fullmatch(r"dev-[0-9a-f]{8}", first.key_id), "generated keys get ids no other key had"
        assert stat.S_IMODE(key_file_home.stat().st_mode) == 0o600
        saved = key_file_home.read_text()
        key_file_home.unlink()

        with pytest.raises(UserError, match=rf"sealed with key '{first.key_id}', but the key file .* is missing: "
                                            r"put the file back .* reset-key --yes"):
            integrations.credentials(conn, Keyring.load(), first)
        with pytest.raises(UserError, match=rf"sealed with key '{first.key_id}', but the key file .* is missing"):
            _add(conn, Keyring.load(), tenant_id="tenant-b")
        assert not key_file_home.exists(), "no new key while secrets sealed with the old one exist"

        key_file_home.write_text(saved)
        assert integrations.credentials(conn, Keyring.load(), first)["client_secret"] == SECRET


def test_after_reset_key_the_credentials_can_be_given_again(clean_warehouse: str, key_file_home) -> None:
    env = {**os.environ, "CONCILIADOR_HOME": str(key_file_home.parent)}
    with psycopg.connect(clean_warehouse) as conn:
        first = _add(conn, Keyring.load())
    key_file_home.unlink()

    refused = _conciliador("integrations", "reset-key", env=env)
    assert refused.returncode == 2 and f"sealed with '{first.key_id}' (1 integration)" in refused.stderr
    reset = _conciliador("integrations", "reset-key", "--yes", env=env)
    assert reset.returncode == 0, reset.stderr
    assert "is disabled until `conciliador integrations add`" in reset.stdout
    listed = _conciliador("integrations", "list", env=env)
    assert "no-creds" in listed.stdout

    with psycopg.connect(clean_warehouse) as conn:
        forgotten = integrations.get(conn, first.integration_id)
        assert not forgotten.is_active
        with pytest.raises(UserError, match="has no credentials since `conciliador integrations reset-key`"):
            integrations.credentials(conn, Keyring.load(), forgotten)
        again = _add(conn, Keyring.load())
        assert again.integration_id == first.integration_id and again.is_active
        assert again.key_id != first.key_id, "a new key, under a new id"
        assert integrations.credentials(conn, Keyring.load(), again)["client_secret"] == SECRET


def test_one_keyring_loaded_before_the_key_file_existed_seals_several(clean_warehouse: str, key_file_home) -> None:
    """The demo loads the keyring once and adds every integration with it."""
    keyring = Keyring.load()
    assert keyring.primary_id is None and not key_file_home.exists()
    with psycopg.connect(clean_warehouse) as conn:
        a = _add(conn, keyring)
        b = _add(conn, keyring, tenant_id="tenant-b")
        assert a.key_id == b.key_id
        assert integrations.credentials(conn, Keyring.load(), b)["client_secret"] == SECRET


def test_another_key_under_the_same_id_still_says_tampered(clean_warehouse: str) -> None:
    with psycopg.connect(clean_warehouse) as conn:
        integration = _add(conn, Keyring.parse(new_key_spec("k1")))
        with pytest.raises(UserError, match="failed its integrity check under key 'k1'; it was tampered"):
            integrations.credentials(conn, Keyring.parse(new_key_spec("k1")), integration)


def _conciliador(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=120
    )
