"""What Kiwify's records need beyond JSON: centavos as reais, its webhook dates, payout documents.

- `reais`: integer centavos (a JSON integer, or its digits as text in webhook bodies) to an exact
  `Decimal` in reais, by moving the decimal point, never through float;
- `kiwify_time`: a webhook date as Kiwify writes it (`"2026-04-22 03:05"`, São Paulo wall time,
  no offset; or ISO-8601 with an offset) as an aware datetime;
- `check_payout_documents`: the integration's payout documents (the producer's CNPJ or CPF, which
  staging matches Kiwify's bank credits against) must be valid documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from plugins.providers.base import BUSINESS_TZ
from plugins.providers.errors import NotLinkedError

_DIGITS = re.compile(r"^\d{1,18}$")
_WALL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$")
_ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")
_DOCUMENT_PUNCTUATION = re.compile(r"[.\-/\s]")


def reais(centavos: int | str) -> Decimal:
    """Integer centavos as exact reais: 1005 → Decimal('10.05'); "123456789" → Decimal('1234567.89').

    Only whole, non-negative centavos are money here: a float (10.05, 1005.0), a fraction, a sign,
    a bool or a decimal comma is a ValueError, never rounded (Kiwify documents integer centavos, so
    anything else is not its amount).
    """
    if isinstance(centavos, bool) or not isinstance(centavos, int | str):
        raise ValueError(f"centavos must be an integer or its digits, got {type(centavos).__name__}")
    if isinstance(centavos, str):
        if not _DIGITS.fullmatch(centavos):
            raise ValueError(f"{centavos!r} is not a whole number of centavos")
        centavos = int(centavos)
    if centavos < 0:
        raise ValueError(f"{centavos} centavos is negative")
    sign, digits, _ = Decimal(centavos).as_tuple()
    return Decimal((sign, digits, -2))  # the same digits, the point moved two places: exact


def kiwify_time(text: str) -> datetime:
    """A webhook date as an aware datetime; ValueError for any other form.

    Kiwify's order notifications write `YYYY-MM-DD HH:MM` (seconds sometimes) without an offset
    (third-party samples); a Brazilian platform's dashboard time, read as São Paulo wall time
    (UNCONFIRMED: no sample states the zone). ISO-8601 with an explicit offset (`…Z`,
    `…-03:00`), as the subscription dates and the API write them, is read as written.
    """
    if _WALL_TIME.fullmatch(text):
        return datetime.fromisoformat(text).replace(tzinfo=BUSINESS_TZ)
    if _ISO_WITH_OFFSET.fullmatch(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    raise ValueError(f"{text[:40]!r} is neither 'YYYY-MM-DD HH:MM' nor ISO-8601 with an offset")


def check_payout_documents(documents: Iterable[str]) -> list[str]:
    """The payout documents as digits; NotLinkedError naming any that is not a valid CNPJ or CPF.

    Kiwify's API is never asked for them: they say which bank credits are Kiwify's deposits to this
    producer. A mistyped one would match nothing, silently, so it fails before anything is fetched,
    and so does an integration that names none.
    """
    documents = list(documents)
    plain = [_DOCUMENT_PUNCTUATION.sub("", document) for document in documents]
    if not plain:
        raise NotLinkedError("kiwify: the integration names no payout_documents (the producer's CNPJ or CPF)")
    for document, digits in zip(documents, plain, strict=True):
        if not (_valid_cnpj(digits) or _valid_cpf(digits)):
            raise NotLinkedError(
                f"kiwify: payout document {document!r} is not a valid CNPJ or CPF (length or check digits), so no "
                "deposit can be matched to it: correct the integration's payout_documents"
            )
    return plain


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
