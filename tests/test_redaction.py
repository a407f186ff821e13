"""Passwords never reach a message, whatever characters they hold.

A password with `@`, `:` or `/` that is not percent-encoded makes libpq read part of it as the
host or port, and the old redaction (which parsed the URL the same way) then printed that part.
"""

from __future__ import annotations

import pytest

from ingestion.errors import UserError
from ingestion.redact import redact_url, scrub
from ingestion.warehouse import check_reachable, database_url

# Distinctive pieces (3+ characters between separators) so a leak cannot hide in ordinary words.
PASSWORDS = [
    "Kq7@Zx9@Wv3",
    "Ab1:Cd2/Ef3@Gh4",
    "Rt5%zzY",
    "Mn6#Pq7?Rs8=Tu9&Vw0",
    "Jk1 Lm2'No3\"Pq4",
    "%40Xy5%3AZz6",
    "\\Bb7\\Cc8",
]


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_url_is_redacted_whatever_its_password_holds(password: str) -> None:
    url = f"postgresql://someone:{password}@127.0.0.1:5432/db?sslmode=disable"
    shown = redact_url(url)
    assert "***" in shown
    for fragment in _fragments(password):
        assert fragment not in shown, (fragment, shown)
    assert shown.startswith("postgresql://someone:***@")


def test_query_and_keyword_passwords_are_redacted() -> None:
    assert "sekret" not in redact_url("postgresql://u@h/db?sslmode=disable&password=sekret&x=1")
    assert "sekret" not in scrub("connect: host=h user=u password=sekret dbname=d")
    assert "se cret" not in scrub("host=h password='se cret' dbname=d")


@pytest.mark.parametrize("password", PASSWORDS)
def test_an_unreachable_url_names_no_part_of_its_password(monkeypatch: pytest.MonkeyPatch, password: str) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://someone:{password}@127.0.0.1:1/db")
    with pytest.raises(UserError) as error:
        check_reachable(database_url())
    for fragment in _fragments(password):
        assert fragment not in str(error.value), (fragment, str(error.value))


def _fragments(password: str) -> list[str]:
    """The pieces a misparse could print: the password and what lies between its separators."""
    pieces = {password}
    for sep in "@:/?#&=%' \"\\":
        pieces.update(part for part in password.split(sep) if len(part) >= 3)
    return sorted(pieces)
