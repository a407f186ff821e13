"""PushinPay's wire format: the transaction as `GET /api/transactions/{id}` answers it, the charge as
`POST /api/pix/cashIn` answers it, the webhook notification, and the PIX code they carry.

Shapes follow PushinPay's official pages (app.theneo.io/pushinpay, "Criar PIX" and "Consultar PIX"):

- create (`POST /api/pix/cashIn`): `{id, qr_code, status, value, webhook_url, qr_code_base64, webhook,
  split_rules, end_to_end_id, payer_name, payer_national_registration}`, `id` a lower-case UUID,
  `value` a JSON integer of centavos;
- read (`GET /api/transactions/{id}`): `{id, status, value, description, payment_type, created_at,
  updated_at, webhook_url, split_rules, fee, total, end_to_end_id, payer_name,
  payer_national_registration, webhook, emails, pix_details{id, expiration_date, emv, created_at,
  updated_at}, transaction_product}` — `id` upper-case, `value` a string of digits (`"1333"`),
  timestamps `2025-09-26T13:15:48.027000Z` (UTC, milliseconds padded to six digits), `fee` and
  `total` null (PushinPay reports no fee: reference §5), `pix_details.expiration_date` without a
  zone (`2081-06-23 02:31:34.997`, UTC here). There is **no `paid_at`**: `updated_at` is the time of
  the latest status change (the payment for a `paid` charge, the refund for a `refunded` one);
- notification: `{id, status, value, end_to_end_id, payer_name, payer_national_registration}` (the
  fields every receiver reads), `id` lower-case as the create call gave it; as JSON (`value` an
  integer) or form-encoded (every value a string; absent values as empty strings).

Money is exact: integer centavos, or their digits. `payer_national_registration` is the payer's CPF
masked as PushinPay shows it (`038******39`, a captured answer in third-party code).
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sandbox.providers.pushinpay.records import PixCharge

DESCRIPTION = "Pagamento PIX"
MERCHANT_NAME = "PUSHIN_PAY_LTDA"  # the merchant name PushinPay's own QR codes carry
MERCHANT_CITY = "LIMEIRA"
QR_URL = "pix.pushinpay.com.br/qr/v3/at/"


def _png_1x1() -> bytes:
    """A valid 1×1 white PNG, standing in for the QR image: the sandbox does not draw QR codes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8-bit greyscale
    pixels = zlib.compress(b"\x00\xff")  # filter byte, one white pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


QR_PNG_BASE64 = "data:image/png;base64," + base64.b64encode(_png_1x1()).decode("ascii")


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt(text: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) in four upper-case hex digits, as BR Codes end."""
    crc = 0xFFFF
    for byte in text.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def pix_emv(location_id: str) -> str:
    """A dynamic PIX BR Code (EMV) pointing at PushinPay's QR location `location_id`, with its CRC."""
    account = _tlv("00", "br.gov.bcb.pix") + _tlv("25", QR_URL + location_id)
    body = (
        _tlv("00", "01")
        + _tlv("01", "12")
        + _tlv("26", account)
        + _tlv("52", "0000")
        + _tlv("53", "986")
        + _tlv("58", "BR")
        + _tlv("59", MERCHANT_NAME)
        + _tlv("60", MERCHANT_CITY)
        + _tlv("62", _tlv("05", "***"))
        + "6304"
    )
    return body + crc16_ccitt(body)


def timestamp(moment: datetime) -> str:
    """`2025-09-26T13:15:48.027000Z`: UTC, milliseconds written as six digits."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}000Z"


def local_timestamp(moment: datetime) -> str:
    """`2081-06-23 02:31:34.997`: the zone-less form of `pix_details.expiration_date` (UTC here)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond // 1000:03d}"


def split_rules(charge: PixCharge) -> list[dict[str, Any]]:
    return [{"value": rule.value, "account_id": rule.account_id} for rule in charge.split_rules]


def _payer(charge: PixCharge, status: str) -> tuple[str | None, str | None, str | None]:
    if status in ("paid", "refunded"):
        return charge.end_to_end_id, charge.payer_name, charge.payer_national_registration
    return None, None, None


def transaction(charge: PixCharge, status: str, updated_at: datetime) -> dict[str, Any]:
    """The body of `GET /api/transactions/{id}` for the charge in `status` since `updated_at`."""
    end_to_end_id, payer_name, payer_document = _payer(charge, status)
    return {
        "id": charge.id.upper(),
        "status": status,
        "value": str(charge.value),
        "description": DESCRIPTION,
        "payment_type": "pix",
        "created_at": timestamp(charge.created_at),
        "updated_at": timestamp(updated_at),
        "webhook_url": charge.webhook_url,
        "split_rules": split_rules(charge),
        "fee": None,
        "total": None,
        "end_to_end_id": end_to_end_id,
        "payer_name": payer_name,
        "payer_national_registration": payer_document,
        "webhook": None,
        "emails": None,
        "pix_details": {
            "id": charge.pix_id,
            "expiration_date": local_timestamp(charge.expires_at),
            "emv": charge.emv,
            "created_at": timestamp(charge.created_at),
            "updated_at": timestamp(charge.created_at),
        },
        "transaction_product": [],
    }


def fresh_transaction(
    charge_id: str,
    value: int,
    webhook_url: str | None,
    rules: list[dict[str, Any]],
    pix_id: str,
    emv: str,
    now: datetime,
) -> dict[str, Any]:
    """The body `GET /api/transactions/{id}` answers for a charge just made through the fake API."""
    return {
        "id": charge_id.upper(),
        "status": "created",
        "value": str(value),
        "description": DESCRIPTION,
        "payment_type": "pix",
        "created_at": timestamp(now),
        "updated_at": timestamp(now),
        "webhook_url": webhook_url,
        "split_rules": rules,
        "fee": None,
        "total": None,
        "end_to_end_id": None,
        "payer_name": None,
        "payer_national_registration": None,
        "webhook": None,
        "emails": None,
        "pix_details": {
            "id": pix_id,
            "expiration_date": local_timestamp(now + timedelta(days=1)),
            "emv": emv,
            "created_at": timestamp(now),
            "updated_at": timestamp(now),
        },
        "transaction_product": [],
    }


def created(
    charge_id: str, value: int, webhook_url: str | None, rules: list[dict[str, Any]], emv: str
) -> dict[str, Any]:
    """The body `POST /api/pix/cashIn` answers for a new charge."""
    return {
        "id": charge_id,
        "qr_code": emv,
        "status": "created",
        "value": value,
        "webhook_url": webhook_url,
        "qr_code_base64": QR_PNG_BASE64,
        "webhook": None,
        "split_rules": rules,
        "end_to_end_id": None,
        "payer_name": None,
        "payer_national_registration": None,
    }


def notification_fields(charge: PixCharge, status: str) -> dict[str, Any]:
    """What a notification says about the charge once it took `status`."""
    end_to_end_id, payer_name, payer_document = _payer(charge, status)
    return {
        "id": charge.id,
        "status": status,
        "value": charge.value,
        "end_to_end_id": end_to_end_id,
        "payer_name": payer_name,
        "payer_national_registration": payer_document,
    }


def notification_body(charge: PixCharge, status: str, encoding: str) -> tuple[bytes, str]:
    """(raw body, content type) of the notification, JSON or form-encoded."""
    fields = notification_fields(charge, status)
    if encoding == "form":
        form = {k: "" if v is None else str(v) for k, v in fields.items()}
        return urlencode(form).encode("ascii"), "application/x-www-form-urlencoded"
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode(), "application/json"
