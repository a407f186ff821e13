"""Identifiers of the sandbox world: UUIDs, Brazilian tax ids (CNPJ / CPF) and short codes.

Everything here takes the caller's `random.Random`, so the world that uses it stays a pure
function of its seed. UUIDs are version 4 with the RNG's bits; the bulk path (`uuid4_int` +
`format_uuid`) is the same bit-twiddling `uuid.UUID(int=..., version=4)` does, without building
a UUID object per bank transaction — a million of those is the difference between one second
and several.
"""

from __future__ import annotations

import random
import uuid

_MASK128 = (1 << 128) - 1
# uuid.UUID(version=4) clears the variant and version bits, then sets variant RFC 4122 and version 4.
UUID4_CLEAR = _MASK128 & ~(0xC000 << 48) & ~(0xF000 << 64)
UUID4_SET = (0x8000 << 48) | (4 << 76)


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID string drawn from `rng` (deterministic for a seeded RNG)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def uuid4_int(bits: int) -> int:
    """The 128-bit integer of the version-4 UUID built from `bits` (as `uuid.UUID(int=bits, version=4).int`)."""
    return (bits & UUID4_CLEAR) | UUID4_SET


def format_uuid(value: int) -> str:
    """Canonical lowercase 8-4-4-4-12 text of a UUID integer.

    Fixed-width lowercase hex keeps numeric order, so sorting UUID integers sorts their text.
    """
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _check_digit(digits: list[int], weights: list[int]) -> int:
    remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


_CNPJ_W1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
_CNPJ_W2 = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]


def cnpj_check_digits(base12: str) -> str:
    """The two check digits of a CNPJ whose first 12 digits are `base12` (Receita Federal mod-11 rule)."""
    digits = [int(c) for c in base12]
    first = _check_digit(digits, _CNPJ_W1)
    second = _check_digit([*digits, first], _CNPJ_W2)
    return f"{first}{second}"


def format_cnpj(digits14: str) -> str:
    """`NNNNNNNNNNNNNN` → `NN.NNN.NNN/NNNN-NN`."""
    d = digits14
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"


def is_valid_cnpj(value: str) -> bool:
    """True for a 14-digit CNPJ (punctuation ignored) with correct check digits."""
    digits = "".join(c for c in value if c.isdigit())
    return len(digits) == 14 and len(set(digits)) > 1 and cnpj_check_digits(digits[:12]) == digits[12:]


def new_cnpj(rng: random.Random, *, branch: int = 1) -> str:
    """A valid, formatted CNPJ: 8 random root digits, a branch number (0001 = head office), check digits."""
    root = f"{rng.randrange(10_000_000, 100_000_000):08d}"
    base = f"{root}{branch:04d}"
    return format_cnpj(base + cnpj_check_digits(base))


_CPF_W1 = [10, 9, 8, 7, 6, 5, 4, 3, 2]
_CPF_W2 = [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]


def new_cpf(rng: random.Random) -> str:
    """A valid, formatted CPF (`NNN.NNN.NNN-NN`) for individual counterparties of bank transfers."""
    base = [rng.randrange(10) for _ in range(9)]
    if len(set(base)) == 1:
        base[0] = (base[0] + 1) % 10
    first = _check_digit(base, _CPF_W1)
    second = _check_digit([*base, first], _CPF_W2)
    d = "".join(map(str, [*base, first, second]))
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def is_valid_cpf(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    return digits[9] == _check_digit(digits[:9], _CPF_W1) and digits[10] == _check_digit(digits[:10], _CPF_W2)


def digits_only(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def secret(rng: random.Random, length: int = 40) -> str:
    """An opaque client secret (letters and digits) for the fake providers' credentials."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(alphabet) for _ in range(length))
