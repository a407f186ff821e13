"""The Mercado Pago client's rules that need no server: the search window on the wire, the account
check, what MP's error answers mean, and that the token never shows.

What the client does over HTTP (paging to `paging.total`, the two passes, splitting windows under
the offset cap, retries, MP's error answers on the wire) is tested against the served sandbox in
`test_mercadopago_served.py`; here, the rules that decide them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from plugins.providers.base import Interval
from plugins.providers.errors import AuthenticationError, NotLinkedError, ResponseShapeError
from plugins.providers.mercadopago.client import (
    OFFSET_CAP,
    PAGE_LIMIT,
    PASSES,
    BearerToken,
    MercadoPagoClient,
    _ceil_ms,
    _middle,
    search_params,
)
from plugins.providers.mercadopago.provider import MercadoPagoProvider, check_payout_documents
from plugins.providers.mercadopago.shapes import Identification, User

TOKEN = "APP_USR-6363002050898251-102616-1d91cfca2d92ad4361d0a9ea12043a1d-148760055"
BASE = "http://127.0.0.1:9/mercadopago"  # never contacted: these tests send nothing


def test_a_business_day_is_asked_for_to_its_last_millisecond_inclusive() -> None:
    interval = Interval.for_dates(date(2026, 10, 1), date(2026, 10, 1))
    begin, stop = _ceil_ms(interval.start), _ceil_ms(interval.end)
    assert search_params(begin, stop, offset=100) == {
        "range": "date_last_updated",
        "begin_date": "2026-10-01T00:00:00.000-03:00",
        "end_date": "2026-10-01T23:59:59.999-03:00",
        "sort": "date_last_updated",
        "criteria": "asc",
        "offset": 100,
        "limit": PAGE_LIMIT,
    }


def test_releases_are_asked_for_by_their_own_date_in_a_second_pass() -> None:
    """MP does not say a release moves `date_last_updated`; `range=money_release_date` is documented."""
    assert PASSES == ("date_last_updated", "money_release_date")
    interval = Interval.for_dates(date(2026, 10, 1), date(2026, 10, 1))
    params = search_params(_ceil_ms(interval.start), _ceil_ms(interval.end), offset=0, by="money_release_date")
    assert (params["range"], params["sort"], params["criteria"]) == ("money_release_date", "money_release_date", "asc")
    assert (params["begin_date"], params["end_date"]) == (
        "2026-10-01T00:00:00.000-03:00",
        "2026-10-01T23:59:59.999-03:00",
    )


def test_the_window_is_the_intervals_own_instants_whatever_their_zone() -> None:
    start = datetime(2026, 10, 1, 14, 30, 0, 250_400, tzinfo=UTC)
    begin, stop = _ceil_ms(start), _ceil_ms(start + timedelta(hours=2))
    params = search_params(begin, stop, offset=0)
    assert params["begin_date"] == "2026-10-01T11:30:00.251-03:00", "rounded up: 250.4 ms is not in the window"
    assert params["end_date"] == "2026-10-01T13:30:00.250-03:00", "the last whole millisecond before the end"


def test_limits_are_mps_documented_ones() -> None:
    assert (PAGE_LIMIT, OFFSET_CAP) == (50, 10_000)


def test_a_window_splits_at_a_millisecond_strictly_inside_it() -> None:
    begin = datetime(2026, 10, 1, tzinfo=UTC)
    assert _middle(begin, begin + timedelta(days=1)) == begin + timedelta(hours=12)
    assert _middle(begin, begin + timedelta(milliseconds=3)) == begin + timedelta(milliseconds=1)
    assert _middle(begin, begin + timedelta(milliseconds=2)) == begin + timedelta(milliseconds=1)
    assert _middle(begin, begin + timedelta(milliseconds=1)) is None, "one millisecond cannot be split"


# ------------------------------------------------------------------------- the account


def account(number: str | None) -> User:
    return User(id=148760055, identification=Identification(type="CNPJ", number=number) if number else None)


@pytest.mark.parametrize("given", ["12.345.678/0001-90", "12345678000190", " 12345678000190 "])
def test_a_payout_document_that_is_the_accounts_passes_however_it_is_punctuated(given: str) -> None:
    check_payout_documents(account("12345678000190"), [given])
    check_payout_documents(account("12.345.678/0001-90"), [given])


def test_a_payout_document_that_is_not_the_accounts_is_not_linked_naming_it() -> None:
    with pytest.raises(NotLinkedError, match="payout document 12345678000191 is not the document") as raised:
        check_payout_documents(account("12345678000190"), ["12345678000190", "12345678000191"])
    assert not raised.value.retryable
    assert "ending in 0190" in str(raised.value) and "12345678000190" not in str(raised.value).replace(
        "12345678000191", ""
    ), "the account's own document is not spelled out"
    with pytest.raises(NotLinkedError, match="registered under no document"):
        check_payout_documents(account(None), ["12345678000190"])
    with pytest.raises(NotLinkedError, match="names no payout_documents"):
        check_payout_documents(account("12345678000190"), [])


# ----------------------------------------------------------------------- error answers


def refusal(status: int, path: str, body: Any = None, *, content_type: str = "application/json") -> httpx.Response:
    request = httpx.Request("GET", f"{BASE}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    content = body.encode() if isinstance(body, str) else httpx.Response(200, json=body).content
    return httpx.Response(status, content=content, headers={"content-type": content_type}, request=request)


@pytest.fixture
def client() -> Any:
    client = MercadoPagoClient(TOKEN, base_url=BASE)
    yield client
    client.close()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"code": "unauthorized", "message": "invalid access token"}, "unauthorized: invalid access token"),
        (
            {
                "message": "Unauthorized use of live credentials",
                "error": "unauthorized",
                "status": 401,
                "cause": [{"code": 7, "description": "Unauthorized use of live credentials", "data": None}],
            },
            "unauthorized: Unauthorized use of live credentials (7: Unauthorized use of live credentials)",
        ),
    ],
)
def test_a_401_is_an_authentication_error_with_mps_reason_and_never_the_token(
    client: MercadoPagoClient, body: dict[str, Any], reason: str
) -> None:
    error = client._classify_refusal(refusal(401, "/v1/payments/search", body))
    assert isinstance(error, AuthenticationError) and not error.retryable
    assert str(error) == f"mercadopago refused the credentials (401) on GET /v1/payments/search: {reason}"
    assert TOKEN not in str(error) and TOKEN not in (error.body or "")


def test_a_403_from_mps_policy_layer_is_an_account_not_reachable(client: MercadoPagoClient) -> None:
    body = {
        "code": "PA_UNAUTHORIZED_RESULT_FROM_POLICIES",
        "blocked_by": "PolicyAgent",
        "message": "At least one policy returned UNAUTHORIZED.",
        "status": 403,
    }
    error = client._classify_refusal(refusal(403, "/v1/payments/search", body))
    assert isinstance(error, NotLinkedError) and not error.retryable
    assert "PA_UNAUTHORIZED_RESULT_FROM_POLICIES" in str(error)
    html = refusal(403, "/v1/payments/search", "<html>Forbidden</html>", content_type="text/html")
    assert client._classify_refusal(html) is None, "a proxy's 403 is left to the transport's rules"


def test_a_404_means_the_account_is_gone_with_mps_body_and_is_not_mps_answer_without(
    client: MercadoPagoClient,
) -> None:
    gone = client._classify_refusal(refusal(404, "/users/me", {"message": "user not found", "error": "not_found"}))
    assert isinstance(gone, NotLinkedError) and "not found" in str(gone)
    html = client._classify_refusal(refusal(404, "/users/me", "<html>502</html>", content_type="text/html"))
    assert isinstance(html, ResponseShapeError)
    assert "a body that is not Mercado Pago's error envelope, so not its documented 404 (text/html" in str(html)
    assert client._classify_refusal(refusal(404, "/v1/payments/search", {"message": "x", "error": "not_found"})) is None


@pytest.mark.parametrize("status", [400, 422, 429, 500])
def test_other_statuses_are_left_to_the_transport(client: MercadoPagoClient, status: int) -> None:
    assert client._classify_refusal(refusal(status, "/v1/payments/search", {"message": "m", "error": "e"})) is None


def test_the_token_never_shows() -> None:
    token = BearerToken(TOKEN)
    assert token.headers()["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(token)
    with pytest.raises(ValueError, match="an access token is required"):
        BearerToken("")
    provider = MercadoPagoProvider(
        credentials={"access_token": TOKEN}, external_ids={"payout_documents": ["1"]}, base_url=BASE
    )
    try:
        assert provider.secret_fields == provider.credential_fields == ("access_token",)
        assert TOKEN not in repr(provider.client.auth) and TOKEN not in repr(vars(provider.client.transport))
    finally:
        provider.close()
