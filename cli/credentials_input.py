"""Where `integrations add` takes credentials from, so that secrets stay off the command line.

A process's arguments are readable by every local user (`ps`, /proc/PID/cmdline) and land in
shell history, so a secret is taken from standard input, a file, the environment or a hidden
prompt. `--credential NAME=VALUE` remains for fields that are not secret (a client id); a
secret field there is refused unless the user says `--allow-secret-in-args`, and then warned
about. Later sources win: environment < file < standard input < arguments; a required field
still missing is asked for at a prompt (hidden for secrets) when standard input is a terminal.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ingestion.errors import UserError

ENV_PREFIX = "CONCILIADOR_CREDENTIAL_"
WEBHOOK_SECRET = "webhook_secret"
_SECRET_NAME = re.compile(r"secret|password|passwd|token|key|signature|private", re.IGNORECASE)


def secret_fields(provider_cls: type) -> tuple[str, ...]:
    """The provider's secret credential fields: its own `secret_fields`, else by name."""
    declared = getattr(provider_cls, "secret_fields", None)
    if declared is not None:
        return tuple(declared)
    return tuple(field for field in provider_cls.credential_fields if _SECRET_NAME.search(field))


def env_name(field: str) -> str:
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", field.upper())


def parse_credentials_text(text: str, source: str) -> dict[str, str]:
    """A JSON object, or NAME=VALUE lines (blank lines and # comments ignored)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise UserError(f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}).") from None
        if not isinstance(data, dict) or not all(isinstance(v, str | int) for v in data.values()):
            raise UserError(f'{source} must be one JSON object of strings, e.g. {{"client_id": "..."}}.')
        return {str(k): str(v) for k, v in data.items()}
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            # The line may be a secret: say where it is, never what it holds.
            raise UserError(f"{source} line {number} is not NAME=VALUE (nor is the input a JSON object).")
        values[name.strip()] = value.rstrip("\r")
    return values


def gather(
    provider_cls: type,
    *,
    from_args: Mapping[str, str],
    stdin_text: str | None,
    file: Path | None,
    allow_secret_in_args: bool,
    environ: Mapping[str, str] = os.environ,
    prompt: Callable[[str, bool], str] | None = None,
    warn: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
) -> dict[str, str]:
    """Credentials (plus `webhook_secret` if given) merged from every source, secrets checked.

    `prompt(field, hidden)` is only passed when standard input is a terminal we may ask at.
    """
    secrets = set(secret_fields(provider_cls)) | {WEBHOOK_SECRET}
    in_args = sorted(secrets & set(from_args))
    if in_args and not allow_secret_in_args:
        first = in_args[0]
        raise UserError(
            f"{', '.join(in_args)} {'is a secret' if len(in_args) == 1 else 'are secrets'}, and arguments are visible "
            f"to every local user (ps) and kept in shell history: pass it on standard input (--credentials-stdin), "
            f"from a file (--credentials-file), in {env_name(first)}, or at the prompt; "
            f"--allow-secret-in-args overrides this."
        )
    if in_args:
        warn(
            f"warning: {', '.join(in_args)} given as an argument: visible in ps and shell history; "
            "prefer --credentials-stdin, --credentials-file or the environment."
        )
    fields: Sequence[str] = (*provider_cls.credential_fields, WEBHOOK_SECRET)
    merged = {field: environ[env_name(field)] for field in fields if environ.get(env_name(field))}
    if file is not None:
        try:
            merged.update(parse_credentials_text(file.read_text(), f"--credentials-file {file}"))
        except OSError as exc:
            raise UserError(f"Cannot read --credentials-file {file}: {exc.strerror}.") from None
    if stdin_text is not None:
        merged.update(parse_credentials_text(stdin_text, "standard input"))
    merged.update(from_args)
    if prompt is not None:
        for field in provider_cls.credential_fields:
            if not merged.get(field, "").strip():
                merged[field] = prompt(field, field in secrets)
    return merged
