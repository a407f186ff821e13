"""Credentials at rest: AES-256-GCM under keys from the environment, with rotation.

Keys come from `CONCILIADOR_SECRET_KEYS` ("kid:base64key,kid:base64key", first one seals new
secrets, all of them open old ones). Without it, the embedded default keeps one generated key
in the project-local state folder (mode 0600) so the demo works out of the box; production
deployments set the variable. Each ciphertext is bound to its row with associated data, so a
sealed secret copied onto another integration fails to open rather than leaking across tenants.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ingestion.errors import UserError
from ingestion.settings import state_dir

ENV_VAR = "CONCILIADOR_SECRET_KEYS"
NONCE_BYTES = 12


@dataclass(frozen=True)
class Keyring:
    primary_id: str
    keys: Mapping[str, bytes]

    @classmethod
    def load(cls) -> Keyring:
        spec = os.environ.get(ENV_VAR, "").strip()
        if not spec:
            spec = _dev_key_file_spec()
        return cls.parse(spec)

    @classmethod
    def parse(cls, spec: str) -> Keyring:
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
        return cls(primary_id=order[0], keys=keys)

    def seal(self, value: Mapping[str, str] | str, *, context: str) -> bytes:
        plaintext = value.encode() if isinstance(value, str) else json.dumps(dict(value), sort_keys=True).encode()
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(self.keys[self.primary_id]).encrypt(nonce, plaintext, context.encode())

    def open(self, blob: bytes, *, key_id: str, context: str) -> bytes:
        key = self.keys.get(key_id)
        if key is None:
            raise UserError(
                f"Secrets were sealed with key {key_id!r}, which is not in {ENV_VAR}; "
                "add it back (after the primary key) to read them."
            )
        try:
            return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise UserError(
                f"A stored secret failed its integrity check under key {key_id!r}; "
                "it was tampered with or copied from another integration."
            ) from None

    def open_json(self, blob: bytes, *, key_id: str, context: str) -> dict[str, str]:
        return json.loads(self.open(blob, key_id=key_id, context=context))


def new_key_spec(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def _dev_key_file_spec() -> str:
    path = state_dir() / "secret-keys"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key_spec("dev-1"))
    return path.read_text().strip()
