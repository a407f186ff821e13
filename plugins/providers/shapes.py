"""Field types shared by the providers' typed response shapes (msgspec Structs).

A shape lists the fields we rely on, each with the type the provider documents; decoding a body
into it fails on a missing or mistyped field instead of letting a null reach a raw table
(design.md, "Completeness"). Unknown fields are ignored: providers add fields, and the raw payload
keeps every field anyway.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

# A decimal number written as text, as some providers write money ("-3.99"): an optional sign,
# digits, an optional fraction. No exponent, no thousands separator, no NaN.
DECIMAL_TEXT = r"^[+-]?\d+(\.\d+)?$"

Number = float
"""Money as a JSON number. Only validated here: the payload that lands keeps the exact digits
the provider sent."""

Amount = Annotated[str, msgspec.Meta(pattern=DECIMAL_TEXT)] | float
"""Money as a JSON number or as decimal text; anything else (`"131,8,9"`, `"abc"`, null) fails."""

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
"""An identifier or code that must be present and not blank."""

Competence = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
"""A month (an accounting competence): `YYYY-MM`."""
