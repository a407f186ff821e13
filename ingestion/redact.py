"""Keeping passwords out of messages: URLs, libpq keyword strings and free text.

Redaction here is textual on purpose. Parsing a URL the way libpq does and then masking the
`password` it found is wrong exactly when it matters: a password holding an unencoded `@`,
`:` or `/` is partly read as the host or port, and that part was then printed. So a URL's
userinfo is taken as everything up to its *last* `@` and masked whole (over-masking a query
that holds an `@` is harmless), and any text can additionally be scrubbed of known secrets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

MASK = "***"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)(.*)$", re.DOTALL)
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)
_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"postgres(?:ql)?(?:\+\w+)?://\S+", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL with its password (userinfo or `password=` query parameter) replaced by ***."""
    match = _SCHEME.match(url)
    if not match:
        return _KEYWORD_PASSWORD.sub(rf"\1{MASK}", url)
    scheme, rest = match.groups()
    at = rest.rfind("@")
    if at >= 0:
        user, colon, _ = rest[:at].partition(":")
        if colon:
            rest = f"{user}:{MASK}@{rest[at + 1 :]}"
    return scheme + _QUERY_PASSWORD.sub(rf"\1{MASK}", rest)


def url_password(url: str) -> str | None:
    """The password as written in the URL (not percent-decoded), read the way `redact_url` reads it."""
    match = _SCHEME.match(url)
    if not match:
        return None
    rest = match.group(2)
    at = rest.rfind("@")
    if at < 0:
        return None
    _, colon, password = rest[:at].partition(":")
    return password if colon else None


def secret_forms(secret: str) -> set[str]:
    """A secret as it may appear in text: as given, percent-decoded and percent-encoded."""
    forms = {secret, quote(secret, safe="")}
    try:
        forms.add(unquote(secret, errors="strict"))
    except UnicodeDecodeError:
        pass
    return {form for form in forms if form}


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Text with URL passwords, `password=` keywords and every given secret masked."""
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    text = _KEYWORD_PASSWORD.sub(rf"\1{MASK}", text)
    # Very short "secrets" would mask ordinary letters; real ones are longer.
    forms = {form for secret in secrets if secret for form in secret_forms(secret) if len(form) >= 4}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text
