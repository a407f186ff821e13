"""What PushinPay's records need beyond JSON: centavos as reais, transaction ids, form bodies, payout documents.

- `reais`: integer centavos (a JSON integer or its digits as text) to an exact `Decimal` in reais,
  never through float;
- `normal_id`: transaction ids lower-cased, because PushinPay writes the same UUID in both cases
  (lower case on the create-charge example and in third-party webhook logs, upper case on the
  official "Consultar PIX" example) and one object must have one external id;
- `form_fields`: an `application/x-www-form-urlencoded` notification as an ordered mapping of
  strings, exactly the pairs sent;
- `check_payout_documents`: the integration's payout documents (CPF or CNPJ of the account that
  receives PushinPay's payouts) must be valid documents, or nothing can be matched to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import parse_qsl

from plugins.providers.errors import NotLinkedError

_DIGITS = re.compile(r"^\d{1,18}$")
_DOCUMENT_PUNCTUATION = re.compile(r"[.\-/\s]")


def reais(centavos: int | str) -> Decimal:
    """Integer centavos as exact reais: 1005 → Decimal('10.05'); "1333" → Decimal('13.33').

    Only whole, non-negative centavos are money here: a float, a fraction, a sign or a bool is a
    ValueError (PushinPay documents integer centavos, so anything else is not its amount).
    """
    if isinstance(centavos, bool) or not isinstance(centavos, int | str):
        raise ValueError(f"centavos must be an integer or its digits, got {type(centavos).__name__}")
    if isinstance(centavos, str):
        if not _DIGITS.fullmatch(centavos):
            raise ValueError(f"{centavos!r} is not a whole number of centavos")
        centavos = int(centavos)
    if centavos < 0:
        raise ValueError(f"{centavos} centavos is negative")
    return Decimal(centavos).scaleb(-2)


def normal_id(transaction_id: str) -> str:
    """The one spelling of a transaction id in raw: lower case (UUIDs compare case-insensitively)."""
    return transaction_id.lower()


def form_fields(text: str) -> dict[str, str]:
    """A form-encoded body as its pairs, in order; ValueError when it is not one.

    Strict: every part must be `name=value` (a body without `=`, such as plain text, fails), and a
    name may appear once (a repeated `status` would leave which one counts to guesswork).
    Bracketed names (`split_rules[0][value]`) are kept as written.
    """
    pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise ValueError(f"the form field {name!r} appears more than once")
        fields[name] = value
    return fields


def check_payout_documents(documents: Iterable[str]) -> list[str]:
    """The payout documents as digits; NotLinkedError naming any that is not a valid CPF or CNPJ.

    PushinPay's API names no account, so the documents are never sent to it; they say which bank
    credits are PushinPay's payouts to this merchant. A mistyped one would match nothing, silently,
    so it fails here, before anything is fetched (a person must correct the integration's ids).
    """
    digits = []
    for document in documents:
        plain = _DOCUMENT_PUNCTUATION.sub("", document)
        if not (_valid_cnpj(plain) or _valid_cpf(plain)):
            raise NotLinkedError(
                f"pushinpay: payout document {document!r} is not a valid CNPJ or CPF (length or check digits), so "
                "no payout can be matched to it: correct the integration's payout_documents"
            )
        digits.append(plain)
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
