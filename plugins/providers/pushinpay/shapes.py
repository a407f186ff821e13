"""The documented shapes of PushinPay's answers and notifications, as msgspec Structs.

`Transaction` is the body of `GET /api/transactions/{id}` (the official "Consultar PIX" page):
`id`, `status` and `value` are required; the fields filled after payment (`end_to_end_id`,
`payer_name`, `payer_national_registration`), `webhook_url`, `split_rules` and the timestamps are
typed when present, so a mistyped one fails instead of landing. Fields we do not read (`fee`,
`total`, `pix_details`, `qr_code`, …) are left to the raw payload, which keeps every field.

`Notification` is a webhook body, JSON or form-encoded (`webhook.py` turns a form into the same
mapping, every value a string): `id` and `status` are required, `value` is optional (a body without
it is an event about a transaction, not the transaction itself).

Money is integer centavos. PushinPay writes `value` as a JSON integer (its create-charge docs: "o
valor em centavos") and, on the official "Consultar PIX" example, as a string of digits ("1333"), so
both are accepted and nothing else: a fraction (`10.05`), a sign or a decimal comma fails, because
centavos with a fraction would mean the platform changed its unit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from plugins.providers.shapes import NonEmpty

Centavos = Annotated[int, msgspec.Meta(ge=0)] | Annotated[str, msgspec.Meta(pattern=r"^\d{1,18}$")]
"""An amount in integer centavos: a non-negative JSON integer, or its digits as a string."""

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]

TransactionId = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$")]
"""A transaction id as it reaches a URL path: a UUID in practice; letters, digits, `-` and `_` only."""


class SplitRule(msgspec.Struct):
    value: Centavos
    account_id: NonEmpty


class Transaction(msgspec.Struct):
    id: NonEmpty
    status: NonEmpty
    value: Centavos
    end_to_end_id: str | None = None
    payer_name: str | None = None
    payer_national_registration: str | None = None
    webhook_url: str | None = None
    split_rules: list[SplitRule] | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class NotFoundObject(msgspec.Struct):
    """A 404 in PushinPay's error envelope: Laravel's `{message}` (the envelope of its documented
    422) or `{error, status: "not_found"}` (third-party receivers' record of the 404)."""

    message: str | None = None
    error: str | None = None
    status: str | None = None


class Notification(msgspec.Struct):
    id: TransactionId
    status: NonEmpty
    value: Centavos | None = None
    end_to_end_id: str | None = None
    payer_name: str | None = None
    payer_national_registration: str | None = None
