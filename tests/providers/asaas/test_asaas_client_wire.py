"""The Asaas client and provider on a real socket, against a small stand-in for Asaas's API.

The sandbox's Asaas (`sandbox/providers/asaas/`) is written separately; until it is merged, these
tests pin the wire contract the client relies on (`/work/prompts/asaas-client-notes.md`) with a
stand-in that serves exactly that contract: the paths and query parameters, `offset`/`limit`
pages ending on `hasMore`, `totalCount`, Asaas's error envelope, 401/403/404/429. Nothing of our
own code is replaced: requests go through the real transport over HTTP. Client tests against the
served sandbox (ids and counts from its world) belong to the integration phase.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
import pytest

from plugins.providers.asaas.client import AsaasClient
from plugins.providers.asaas.provider import AsaasProvider
from plugins.providers.base import Interval, RawRecord
from plugins.providers.errors import (
    AuthenticationError,
    IncompleteExtractionError,
    NotLinkedError,
    RateLimitedError,
    RequestRejectedError,
    ResponseShapeError,
)
from plugins.providers.transport import RetryPolicy, TransportOptions

API_KEY = "$aact_hmlg_000MzkwODA2MWY2OGM3MWRlMDU2NWM3MzJlNzZmNGZhZGY6OjAwMDAwMDAwMDAwMDAwMDAwMDA6OiRhYWNo"
CNPJ = "12345678000195"
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 2)
INTERVAL = Interval.for_dates(FIRST, LAST)
ENCODE = msgspec.json.Encoder(decimal_format="number").encode
HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


def a_payment(n: int, *, created: str = "2026-10-01", **extra: Any) -> dict[str, Any]:
    return {
        "object": "payment",
        "id": f"pay_{n:06d}",
        "dateCreated": created,
        "customer": "cus_000001",
        "value": Decimal("10.05") + n,
        "netValue": Decimal("9.06") + n,
        "status": "PENDING",
        "billingType": "PIX",
        "dueDate": "2026-10-05",
        "externalReference": f"order-{n}",
        **extra,
    }


def a_line(n: int, kind: str, value: str, **refs: str) -> dict[str, Any]:
    return {
        "object": "financialTransaction",
        "id": f"ft_{n}",
        "value": Decimal(value),
        "type": kind,
        "date": "2026-10-02",
        **refs,
    }


def a_transfer(transfer_id: str, created: str = "2026-10-02", status: str = "DONE") -> dict[str, Any]:
    return {
        "object": "transfer",
        "id": transfer_id,
        "dateCreated": created,
        "status": status,
        "value": Decimal("1234567.89"),
        "netValue": Decimal("1234567.89"),
        "transferFee": Decimal("0"),
        "operationType": "PIX",
        "bankAccount": {"cpfCnpj": CNPJ, "ownerName": "Loja Exemplo Ltda"},
    }


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class FakeAsaas:
    """What the stand-in serves: listings by path, objects by id, and answers queued per path prefix."""

    listings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    account: dict[str, Any] = field(default_factory=lambda: {"cpfCnpj": "12.345.678/0001-95", "personType": "JURIDICA"})
    queued: list[tuple[str, Answer]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    # page tampering: (offset -> changes to the envelope) for the tests of totals and offsets
    envelope_changes: dict[int, dict[str, Any]] = field(default_factory=dict)

    def answer(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        self.requests.append((path, query, headers))
        for i, (prefix, queued) in enumerate(self.queued):
            if path.startswith(prefix):
                del self.queued[i]
                return queued
        if headers.get("access_token") != API_KEY:
            return error(401, "invalid_access_token", "A chave de API informada não pertence a este ambiente")
        if path == "/v3/myAccount/commercialInfo/":
            return 200, {}, ENCODE(self.account)
        if path in self.listings:
            offset, limit = int(query["offset"]), int(query["limit"])
            data = self.listings[path]
            page = data[offset : offset + limit]
            envelope = {
                "object": "list",
                "hasMore": offset + len(page) < len(data),
                "totalCount": len(data),
                "limit": limit,
                "offset": offset,
                "data": page,
                **self.envelope_changes.get(offset, {}),
            }
            return 200, {}, ENCODE(envelope)
        object_id = path.rsplit("/", 1)[-1]
        if object_id in self.objects:
            return 200, {}, ENCODE(self.objects[object_id])
        return error(404, "not_found", "Objeto não encontrado")


def error(status: int, code: str, description: str, headers: dict[str, str] | None = None) -> Answer:
    return status, headers or {}, ENCODE({"errors": [{"code": code, "description": description}]})


@pytest.fixture
def fake() -> Iterator[tuple[FakeAsaas, str]]:
    state = FakeAsaas()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            path = url.path.removeprefix("/asaas")
            status, headers, body = state.answer(
                path, dict(parse_qsl(url.query)), {k.lower(): v for k, v in self.headers.items()}
            )
            self.send_response(status)
            content_type = "text/html" if body.startswith(b"<") else "application/json"
            for name, value in {"Content-Type": content_type, **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/asaas"
    server.shutdown()
    server.server_close()


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def provider(base_url: str, waits: Waits | None = None, documents: list[str] | None = None) -> AsaasProvider:
    return AsaasProvider(
        credentials={"api_key": API_KEY},
        external_ids={"payout_documents": documents or ["12.345.678/0001-95"]},
        base_url=base_url,
        transport=TransportOptions(retry=RetryPolicy(max_retries=2), sleep=waits if waits is not None else Waits()),
    )


def world(state: FakeAsaas, payments: int = 130) -> None:
    """`payments` created in the interval; the statement names one older payment and one older transfer."""
    state.listings["/v3/payments"] = [a_payment(n) for n in range(payments)]
    state.listings["/v3/financialTransactions"] = [
        a_line(1, "PAYMENT_RECEIVED", "99.90", paymentId="pay_old"),
        a_line(2, "PAYMENT_FEE", "-0.99", paymentId="pay_old"),
        a_line(3, "PAYMENT_RECEIVED", "19.99", paymentId="pay_000003"),
        a_line(4, "PAYMENT_RECEIVED", "5.00", paymentId="pay_of_another_account", splitId="spl_1"),
        a_line(5, "TRANSFER", "-1234567.89", transferId="tra_old"),
        a_line(6, "TRANSFER", "-1234567.89", transferId="tra_new"),
    ]
    state.listings["/v3/transfers"] = [a_transfer("tra_new")]
    state.objects["pay_old"] = a_payment(999_999, created="2026-09-01", status="RECEIVED", value=Decimal("99.90"))
    state.objects["pay_old"]["id"] = "pay_old"
    state.objects["tra_old"] = a_transfer("tra_old", created="2026-09-30")


def sync(base_url: str, **kwargs: Any) -> list[RawRecord]:
    p = provider(base_url, **kwargs)
    try:
        return list(p.sync(INTERVAL))
    finally:
        p.close()


# ------------------------------------------------------------------------------ a clean sync


def test_a_sync_lands_the_dates_payments_statement_transfers_and_what_the_statement_names(
    fake: tuple[FakeAsaas, str],
) -> None:
    state, base_url = fake
    world(state)
    records = sync(base_url)

    by_table: dict[str, list[RawRecord]] = {}
    for record in records:
        by_table.setdefault(record.table, []).append(record)
    assert [r.external_id for r in by_table["asaas_payments"]] == [f"pay_{n:06d}" for n in range(130)] + ["pay_old"]
    assert [r.external_id for r in by_table["asaas_financial_transactions"]] == [f"ft_{n}" for n in range(1, 7)]
    assert [r.external_id for r in by_table["asaas_transfers"]] == ["tra_new", "tra_old"]
    assert by_table["asaas_payments"][7].keys == {"external_reference": "order-7"}
    assert by_table["asaas_financial_transactions"][3].keys == {"payment_id": "pay_of_another_account"}
    assert by_table["asaas_transfers"][0].keys == {"status": "DONE"}
    # the exact bytes Asaas sent, amounts with their digits
    assert bytes(by_table["asaas_payments"][7].payload) == ENCODE(a_payment(7))
    assert b'"value":17.05' in bytes(by_table["asaas_payments"][7].payload)
    assert bytes(by_table["asaas_transfers"][1].payload) == ENCODE(state.objects["tra_old"])

    asked = [(path, query) for path, query, _ in state.requests]
    dates = {"dateCreated[ge]": "2026-10-01", "dateCreated[le]": "2026-10-02"}
    assert asked == [
        ("/v3/myAccount/commercialInfo/", {}),
        ("/v3/payments", {**dates, "offset": "0", "limit": "100"}),
        ("/v3/payments", {**dates, "offset": "100", "limit": "100"}),
        (
            "/v3/financialTransactions",
            {"startDate": "2026-10-01", "finishDate": "2026-10-02", "order": "asc", "offset": "0", "limit": "100"},
        ),
        ("/v3/transfers", {**dates, "offset": "0", "limit": "100"}),
        ("/v3/payments/pay_old", {}),  # once, though two lines name it; a split leg's payment is not read
        ("/v3/transfers/tra_old", {}),
    ]
    for _, _, headers in state.requests:
        assert headers["access_token"] == API_KEY and headers["user-agent"].startswith("conciliador/")


def test_the_interval_is_read_as_its_sao_paulo_dates_and_nothing_wider(fake: tuple[FakeAsaas, str]) -> None:
    state, base_url = fake
    world(state)
    p = provider(base_url)
    # 12:00 UTC on the 1st .. 02:00 UTC on the 3rd is 09:00 on the 1st .. 23:00 on the 2nd in São Paulo
    list(p.sync(Interval(datetime(2026, 10, 1, 12, tzinfo=UTC), datetime(2026, 10, 3, 2, tzinfo=UTC))))
    p.close()
    filters = {path: query for path, query, _ in state.requests if "offset" in query and query["offset"] == "0"}
    assert filters["/v3/payments"]["dateCreated[ge]"] == "2026-10-01"
    assert filters["/v3/payments"]["dateCreated[le]"] == "2026-10-02"
    assert (filters["/v3/financialTransactions"]["startDate"], filters["/v3/financialTransactions"]["finishDate"]) == (
        "2026-10-01",
        "2026-10-02",
    )


# ------------------------------------------------------------------- pages that do not add up


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {0: {"totalCount": 131}, 100: {"totalCount": 131}},
            "fetched 130 records, but Asaas stated a totalCount of 131",
        ),
        ({100: {"totalCount": 131}}, "states totalCount 131, the first page stated 130: the data moved"),
        ({100: {"data": [], "hasMore": True}}, "the page at offset 100 is empty but says more follow"),
        ({100: {"offset": 99}}, "asked for offset 100, the page says it starts at 99"),
        ({100: {"data": [a_payment(99)], "hasMore": False, "totalCount": 130}}, "'pay_000099' came twice"),
        ({0: {"hasMore": False}}, "fetched 100 records, but Asaas stated a totalCount of 130"),
    ],
    ids=["total-not-fetched", "total-moved", "empty-page-with-more", "wrong-offset", "duplicate", "early-end"],
)
def test_pages_that_do_not_add_up_fail_whole(fake: tuple[FakeAsaas, str], changes: dict, message: str) -> None:
    state, base_url = fake
    world(state)
    state.envelope_changes = changes
    with pytest.raises(IncompleteExtractionError, match=message):
        sync(base_url)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((200, {}, b"{}"), "missing required field `hasMore`"),
        ((200, {}, b'{"message": "OK"}'), "missing required field"),
        ((200, {}, b"[]"), "Expected `object`, got `array`"),
        ((200, {}, HTML), "a text/html body instead of JSON"),
        (
            (200, {}, b'{"hasMore": false, "totalCount": 1, "limit": 100, "offset": 0, "data": [{"id": "pay_1"'),
            "truncated JSON",
        ),
    ],
)
def test_a_listing_not_in_the_documented_shape_is_a_shape_error(
    fake: tuple[FakeAsaas, str], answer: Answer, message: str
) -> None:
    state, base_url = fake
    world(state)
    state.queued.append(("/v3/payments", answer))
    with pytest.raises(ResponseShapeError, match=message):
        sync(base_url)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": "131,8,9"}, r"record data\[4\], id 'pay_000004'; found '131,8,9'"),
        ({"value": None}, r"Expected `decimal`, got `null` - at `\$.data\[4\].value`"),
        ({"status": None}, r"`\$.data\[4\].status`"),
        ({"dateCreated": "2026-09-30"}, "id 'pay_000004', dated 2026-09-30, outside the 2026-10-01..2026-10-02 filter"),
    ],
)
def test_a_bad_record_names_itself(fake: tuple[FakeAsaas, str], change: dict, message: str) -> None:
    state, base_url = fake
    world(state)
    state.listings["/v3/payments"][4].update(change)
    with pytest.raises(ResponseShapeError, match=message):
        sync(base_url)


# -------------------------------------------------------------------------- Asaas's refusals


def test_a_wrong_key_is_an_authentication_error_at_once_that_never_shows_the_key(fake: tuple[FakeAsaas, str]) -> None:
    state, base_url = fake
    world(state)
    p = AsaasProvider(
        credentials={"api_key": "$aact_hmlg_not-the-key"},
        external_ids={"payout_documents": [CNPJ]},
        base_url=base_url,
        transport=TransportOptions(sleep=Waits()),
    )
    with pytest.raises(AuthenticationError) as raised:
        list(p.sync(INTERVAL))
    message = str(raised.value)
    assert message.startswith(
        "asaas refused the credentials (401) on GET /v3/myAccount/commercialInfo/: invalid_access_token"
    )
    assert "not-the-key" not in message and API_KEY not in message and not raised.value.retryable
    assert len(state.requests) == 1, "a static key does not get better on a second try"
    assert "redacted" in repr(p.client.auth) and "not-the-key" not in repr(p.client.auth)


def test_a_key_for_the_other_environment_is_named_as_such() -> None:
    sandbox_key_on_prod = AsaasClient("$aact_hmlg_abc", base_url=AsaasClient.DEFAULT_BASE_URL)
    prod_key_on_sandbox = AsaasClient("$aact_prod_abc", base_url=AsaasClient.SANDBOX_BASE_URL)
    assert "sandbox key" in sandbox_key_on_prod._environment_hint()
    assert "production key" in prod_key_on_sandbox._environment_hint()
    assert AsaasClient("$aact_prod_abc")._environment_hint() == ""


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (
            error(403, "forbidden", "Requisição não autorizada"),
            RequestRejectedError,
            "answered 403, a request Asaas refuses",
        ),
        ((403, {}, HTML), RequestRejectedError, "answered 403"),
        (error(400, "invalid_date", "Data inválida"), RequestRejectedError, "answered 400: .*invalid_date"),
    ],
)
def test_a_refused_request_fails_at_once(
    fake: tuple[FakeAsaas, str], answer: Answer, error: type, message: str
) -> None:
    state, base_url = fake
    world(state)
    state.queued.append(("/v3/payments", answer))
    with pytest.raises(error, match=message) as raised:
        sync(base_url)
    assert not raised.value.retryable
    assert [path for path, _, _ in state.requests].count("/v3/payments") == 1


def test_a_named_payment_asaas_does_not_serve_is_not_reachable_naming_it(fake: tuple[FakeAsaas, str]) -> None:
    state, base_url = fake
    world(state)
    del state.objects["pay_old"]
    with pytest.raises(NotLinkedError, match=r"payment pay_old is not reachable with these credentials .*not_found"):
        sync(base_url)


def test_a_404_that_is_not_asaas_answer_is_a_shape_error(fake: tuple[FakeAsaas, str]) -> None:
    state, base_url = fake
    world(state)
    state.queued.append(("/v3/payments/pay_old", (404, {}, HTML)))
    with pytest.raises(ResponseShapeError, match="not Asaas's error envelope, so not its documented 404 \\(text/html"):
        sync(base_url)


def test_rate_limits_wait_as_asaas_says_then_give_up(fake: tuple[FakeAsaas, str]) -> None:
    state, base_url = fake
    world(state)
    too_many = error(
        429,
        "rate_limit",
        "Too many requests",
        {"RateLimit-Limit": "100", "RateLimit-Remaining": "0", "RateLimit-Reset": "7"},
    )
    state.queued.append(("/v3/payments", too_many))
    waits = Waits()
    assert len(sync(base_url, waits=waits)) == 130 + 6 + 2 + 1
    assert waits == [7.0], "RateLimit-Reset, Asaas's header, is the wait"

    state.queued = [("/v3/payments", error(429, "rate_limit", "Too many requests", {"Retry-After": "1"}))] * 3
    with pytest.raises(RateLimitedError, match=r"^asaas: GET /v3/payments answered 429 after 3 attempts"):
        sync(base_url)


def test_a_key_of_another_company_is_not_linked_naming_the_documents(fake: tuple[FakeAsaas, str]) -> None:
    state, base_url = fake
    world(state)
    with pytest.raises(NotLinkedError) as raised:
        sync(base_url, documents=["98765432000110"])
    assert "98765432000110" in str(raised.value) and "12********0195" in str(raised.value)
    assert [path for path, _, _ in state.requests] == ["/v3/myAccount/commercialInfo/"], "nothing else is read"
