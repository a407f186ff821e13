"""Credentials at rest: AES-256-GCM under keys from the environment, with rotation.

Keys come from `CONCILIADOR_SECRET_KEYS` ("kid:base64key,kid:base64key", first one seals new
secrets, all of them open old ones). Without it, the embedded default keeps one generated key
in the project-local state folder (mode 0600) so the demo works out of the box; production
deployments set the variable. Each ciphertext is bound to its row with associated data, so a
sealed secret copied onto another integration fails to open rather than leaking across tenants.

A generated key gets a random id (dev-<hex>), and a missing key file is never quietly made
again while secrets sealed under some key exist (ingestion/integrations.py checks before it
asks for a new one): a regenerated key under the old id made every secret look tampered with.
So a key that is not there is reported as missing, by name, and a key that is there but does
not open a secret means tampering or copying.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ingestion.errors import UserError
from ingestion.settings import state_dir

ENV_VAR = "CONCILIADOR_SECRET_KEYS"
NONCE_BYTES = 12


@dataclass(frozen=True)
class Keyring:
    primary_id: str | None
    keys: Mapping[str, bytes]
    # Where the keys came from: ENV_VAR or the key file's path (for messages).
    source: str = ENV_VAR

    @classmethod
    def load(cls) -> Keyring:
        """The keys in force; empty (primary_id None) when the embedded key file does not exist."""
        spec = os.environ.get(ENV_VAR, "").strip()
        if spec:
            return cls.parse(spec)
        path = key_file()
        if not path.exists():
            return cls(primary_id=None, keys={}, source=str(path))
        return cls.parse(path.read_text(), source=str(path))

    @property
    def from_key_file(self) -> bool:
        return self.source != ENV_VAR

    @classmethod
    def parse(cls, spec: str, *, source: str = ENV_VAR) -> Keyring:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            kid, sep, encoded = entry.partition(":")
            if not sep or not kid:
                raise UserError(f"{ENV_VAR} entries must look like 'key-id:base64key'; got one without a ':'.")
            try:
                key = base64.b64decode(encoded, validate=True)
            except ValueError:
                raise UserError(f"{ENV_VAR}: key {kid!r} is not valid base64.") from None
            if len(key) != 32:
                raise UserError(f"{ENV_VAR}: key {kid!r} is {len(key)} bytes; AES-256 needs 32.")
            keys[kid] = key
            order.append(kid)
        if not order:
            raise UserError(f"{ENV_VAR} holds no keys; generate one with `conciliador integrations new-key`.")
        return cls(primary_id=order[0], keys=keys, source=source)

    def seal(self, value: Mapping[str, str] | str, *, context: str) -> bytes:
        if self.primary_id is None:
            raise UserError(
                f"No key to seal secrets with: set {ENV_VAR} or let `conciliador integrations add` make one."
            )
        plaintext = value.encode() if isinstance(value, str) else json.dumps(dict(value), sort_keys=True).encode()
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(self.keys[self.primary_id]).encrypt(nonce, plaintext, context.encode())

    def open(self, blob: bytes, *, key_id: str, context: str) -> bytes:
        key = self.keys.get(key_id)
        if key is None:
            raise UserError(self.missing_key_message(key_id))
        try:
            return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise UserError(
                f"A stored secret failed its integrity check under key {key_id!r}; "
                "it was tampered with or copied from another integration."
            ) from None

    def open_json(self, blob: bytes, *, key_id: str, context: str) -> dict[str, str]:
        return json.loads(self.open(blob, key_id=key_id, context=context))

    def missing_key_message(self, key_ids: str | list[str]) -> str:
        """Which key is missing, and the ways back: restore it, or give the credentials again."""
        ids = [key_ids] if isinstance(key_ids, str) else key_ids
        named = ", ".join(repr(k) for k in ids)
        restart = (
            "or, to start over, run `conciliador integrations reset-key --yes` and give the credentials again "
            "with `conciliador integrations add`."
        )
        if not self.from_key_file:
            return (
                f"Secrets were sealed with key {named}, which is not in {ENV_VAR}: add it back (after the "
                f"primary key) to read them, {restart}"
            )
        if not self.keys:
            return (
                f"Secrets were sealed with key {named}, but the key file {self.source} is missing: put the file "
                f"back (from a backup) or set {ENV_VAR} to that key, {restart}"
            )
        return (
            f"Secrets were sealed with key {named}, but the key file {self.source} holds "
            f"{', '.join(repr(k) for k in self.keys)}: put the original file back or set {ENV_VAR} to that key, "
            f"{restart}"
        )


def new_key_spec(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def new_key_id(prefix: str) -> str:
    """A key id that no earlier key can have had: a regenerated key is never taken for the old one."""
    return f"{prefix}-{secrets.token_hex(4)}"


def key_file() -> Path:
    return state_dir() / "secret-keys"


def create_key_file() -> Keyring:
    """Write a fresh key file (mode 0600); callers first make sure no sealed secret needs the old one."""
    path = key_file()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Keyring.load()  # another process made it first; use theirs
    with os.fdopen(fd, "w") as handle:
        handle.write(new_key_spec(new_key_id("dev")) + "\n")
    return Keyring.load()
