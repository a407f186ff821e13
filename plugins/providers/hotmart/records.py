"""What Hotmart's records need beyond JSON: epoch milliseconds, and the integration's payout documents.

- `from_millis` / `window_millis`: Hotmart writes and filters every date as integer milliseconds
  since the epoch; an interval becomes the inclusive `[start_date, end_date]` pair Hotmart reads;
- `check_payout_documents`: the integration's payout documents (the producer's CNPJ, or CPF, whose
  bank account receives Hotmart's deposits) must be valid documents, or no deposit can be matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from plugins.providers.errors import NotLinkedError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DOCUMENT_PUNCTUATION = re.compile(r"[.\-/\s]")


def from_millis(millis: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime, exactly (no float on the way)."""
    return _EPOCH + timedelta(milliseconds=millis)


def to_millis(moment: datetime) -> int:
    """An aware datetime as epoch milliseconds, rounded up to the next whole millisecond."""
    if moment.tzinfo is None:
        raise ValueError("hotmart: a naive datetime has no epoch milliseconds")
    # whole-number arithmetic on the difference's parts: exact, and the same for a datetime subclass
    # (Airflow hands intervals as pendulum DateTimes, whose Duration does not floor-divide by a timedelta)
    delta = moment - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return -(-micros // 1_000)


def window_millis(start: datetime, end: datetime) -> tuple[int, int] | None:
    """The inclusive `(start_date, end_date)` in milliseconds that asks for exactly [start, end).

    Whether Hotmart's `end_date` is inclusive is not documented; sending the last millisecond
    before `end` is right either way. None when the window holds no whole millisecond.
    """
    first, stop = to_millis(start), to_millis(end)
    return (first, stop - 1) if stop > first else None


def check_payout_documents(documents: Iterable[str]) -> list[str]:
    """The payout documents as digits; NotLinkedError naming any that is not a valid CNPJ or CPF.

    Hotmart's API names no bank account, so the documents are never sent to it; they say which
    bank credits are Hotmart's deposits to this producer. A mistyped one would match nothing,
    silently, so it fails here, before anything is fetched. None at all is the same mistake.
    """
    digits = []
    for document in documents:
        plain = _DOCUMENT_PUNCTUATION.sub("", document)
        if not (_valid_cnpj(plain) or _valid_cpf(plain)):
            raise NotLinkedError(
                f"hotmart: payout document {document!r} is not a valid CNPJ or CPF (length or check digits), so no "
                "deposit can be matched to it: correct the integration's payout_documents"
            )
        digits.append(plain)
    if not digits:
        raise NotLinkedError("hotmart: the integration names no payout_documents to match Hotmart's deposits with")
    return digits


def _valid_cnpj(digits: str) -> bool:
    if len(digits) != 14 or not digits.isascii() or not digits.isdigit() or len(set(digits)) == 1:
        return False
    numbers = [int(d) for d in digits]
    for size in (12, 13):
        weights = [*range(size - 7, 1, -1), *range(9, 1, -1)]
        remainder = sum(n * w for n, w in zip(numbers[:size], weights, strict=True)) % 11
        if numbers[size] != (0 if remainder < 2 else 11 - remainder):
            return False
    return True


def _valid_cpf(digits: str) -> bool:
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit() or len(set(digits)) == 1:
        return False
    numbers = [int(d) for d in digits]
    for size in (9, 10):
        total = sum(n * w for n, w in zip(numbers[:size], range(size + 1, 1, -1), strict=True))
        if numbers[size] != (total * 10 % 11) % 10:
            return False
    return True
