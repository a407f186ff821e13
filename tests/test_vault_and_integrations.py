"""Credentials at rest: encrypted, bound to their row, rotatable; bad input explained."""

from __future__ import annotations

import psycopg
import pytest

from ingestion import integrations
from ingestion.errors import UserError
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
