"""Kiwify's webhook dates and the integration's payout documents.

Dates: Kiwify's order notifications write `YYYY-MM-DD HH:MM` without an offset (third-party
samples), read as São Paulo wall time; ISO-8601 with an offset is read as written; nothing else is
taken for a date. Payout documents: the producer's CNPJ or CPF, checked by their check digits
before anything is fetched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plugins.providers.base import BUSINESS_TZ
from plugins.providers.errors import NotLinkedError
from plugins.providers.kiwify.records import check_payout_documents, kiwify_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-22 03:05", datetime(2026, 4, 22, 3, 5, tzinfo=BUSINESS_TZ)),
        ("2026-04-22 03:05:59", datetime(2026, 4, 22, 3, 5, 59, tzinfo=BUSINESS_TZ)),
        ("2026-04-22T06:05:00.000Z", datetime(2026, 4, 22, 6, 5, tzinfo=UTC)),
        ("2026-04-22T03:05:00-03:00", datetime(2026, 4, 22, 6, 5, tzinfo=UTC)),
        ("2026-04-22T06:05Z", datetime(2026, 4, 22, 6, 5, tzinfo=UTC)),
    ],
)
def test_kiwify_dates_become_aware_instants(text: str, expected: datetime) -> None:
    moment = kiwify_time(text)
    assert moment == expected and moment.utcoffset() is not None


def test_wall_time_is_sao_paulos_utc_minus_three() -> None:
    assert kiwify_time("2026-04-22 23:30").utcoffset() == timedelta(hours=-3)
    assert kiwify_time("2026-04-22 23:30").astimezone(UTC) == datetime(2026, 4, 23, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["2026-04-22", "22/04/2026 03:05", "2026-04-22T06:05:00", "2026-04-22 3:05", "1713755100", "", "2026-13-01 00:00"],
)
def test_anything_else_is_not_a_kiwify_date(text: str) -> None:
    with pytest.raises(ValueError):
        kiwify_time(text)


@pytest.mark.parametrize("document", ["14.380.200/0001-21", "14380200000121", "11222333000181", "123.456.789-09"])
def test_valid_payout_documents_pass_as_digits(document: str) -> None:
    assert check_payout_documents([document]) == ["".join(c for c in document if c.isdigit())]


@pytest.mark.parametrize(
    "document", ["14380200000120", "11222333000180", "12345678900", "00000000000000", "1438020", "abc"]
)
def test_an_invalid_payout_document_is_not_linked_naming_it(document: str) -> None:
    with pytest.raises(NotLinkedError) as raised:
        check_payout_documents(["11222333000181", document])
    assert repr(document) in str(raised.value) and not raised.value.retryable


def test_an_integration_without_payout_documents_is_not_linked() -> None:
    with pytest.raises(NotLinkedError, match="names no payout_documents"):
        check_payout_documents([])
