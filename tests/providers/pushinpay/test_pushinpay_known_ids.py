"""Re-confirming by id: which ids a sync re-reads (real PostgreSQL), and the client's reading of each answer.

PushinPay has no list endpoint, so `ingestion.sync.known_ids` picks, from raw, the ids a sync must
re-read, and the provider asks for each once. The HTTP side here is a small stub written from the
same facts as the client (`../shared/reference/providers-gateways.md` §5 and the official
"Consultar PIX" page), not the sandbox: it checks the client's own logic (one GET per id, bearer
headers, what each error answer becomes). The served-sandbox tests of the integration phase are
the independent check of the wire format.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest

from ingestion import integrations, raw_writer
from ingestion.sync import known_ids, run_sync
from ingestion.vault import Keyring, new_key_spec
from plugins.providers.base import Interval, RawRecord
from plugins.providers.errors import (
    AuthenticationError,
    NotLinkedError,
    ProviderError,
    RequestRejectedError,
    ResponseShapeError,
)
from plugins.providers.pushinpay.client import PushinPayClient
from plugins.providers.pushinpay.provider import PushinPayProvider
from plugins.providers.pushinpay.webhook import PushinPayWebhook
from plugins.providers.transport import RetryPolicy, TransportOptions

KEYRING = Keyring.parse(new_key_spec("known-ids"))
TOKEN = "4321|Zx9YwVu8TsRq7PoNm6LkJi5HgFe4DcBa3zYxWvU2"
SPEC = PushinPayProvider.known_ids_from
WINDOW = Interval(datetime(2026, 10, 5, 3, tzinfo=UTC), datetime(2026, 10, 6, 3, tzinfo=UTC))
HTML = b"<html><body><h1>404 Not Found</h1>nginx</body></html>"


# ------------------------------------------------------------------------ which ids


def _land(conn: psycopg.Connection, integration_id: int, records: list[RawRecord], loaded_at: datetime) -> None:
    raw_writer.write(conn, records, tenant_id="t1", integration_id=integration_id, sync_run_id=None, source="webhook")
    for record in records:
        conn.execute(
            f"update raw.{record.table} set loaded_at = %s where external_id = %s and loaded_at > %s",
            (loaded_at, record.external_id, loaded_at),
        )


def _webhook(transaction_id: str, status: str, *, value: bool = True) -> list[RawRecord]:
    body = {"id": transaction_id, "status": status, **({"value": 1005} if value else {})}
    return list(PushinPayWebhook().parse(json.dumps(body).encode()).records)


def _confirmed(transaction_id: str, status: str) -> list[RawRecord]:
    body = json.dumps({"id": transaction_id, "status": status, "value": 1005}).encode()
    return [RawRecord("pushinpay_transactions", transaction_id, body, {"status": status})]


def test_a_sync_re_reads_ids_first_seen_in_its_window_and_those_not_final(clean_warehouse: str) -> None:
    before, inside, after = WINDOW.start - timedelta(days=3), WINDOW.start + timedelta(hours=5), WINDOW.end
    with psycopg.connect(clean_warehouse) as conn:
        _land(conn, 1, _webhook("a-paid-in-window", "paid"), inside)
        _land(conn, 1, _webhook("b-paid-before", "paid"), before)
        _land(conn, 1, _confirmed("c-created-before", "created"), before)
        _land(conn, 1, _webhook("d-never-confirmed", "refunded", value=False), before)
        _land(conn, 1, _confirmed("e-created-then-paid", "created"), before)
        _land(conn, 1, _confirmed("e-created-then-paid", "paid"), before + timedelta(days=1))
        _land(conn, 2, _webhook("f-other-integration", "created"), inside)
        _land(conn, 1, _webhook("g-paid-after", "paid"), after)
        _land(conn, 1, _confirmed("h-pending-before", "pending"), before)
        _land(conn, 1, _confirmed("i-unknown-status", "approved"), before)
        _land(conn, 1, _webhook("j-expired-in-window", "expired"), WINDOW.start)
        chosen = known_ids(conn, SPEC, 1, WINDOW)
        widened = known_ids(conn, SPEC, 1, WINDOW.widened(timedelta(days=3)))
        conn.rollback()
    assert chosen == [
        "a-paid-in-window",
        "c-created-before",
        "d-never-confirmed",
        "h-pending-before",
        "i-unknown-status",
        "j-expired-in-window",
    ]
    assert set(widened) - set(chosen) == {"b-paid-before", "e-created-then-paid"}, "the look-back re-reads older days"


def test_a_declaration_naming_an_unknown_table_or_column_is_refused(warehouse_url: str) -> None:
    from plugins.providers.base import KnownIds

    wrong = KnownIds({"pushinpay_transactions": "payload"}, ("pushinpay_transactions", "status"), frozenset())
    with psycopg.connect(warehouse_url) as conn, pytest.raises(ValueError, match="'payload' is not a column"):
        known_ids(conn, wrong, 1, WINDOW)


# --------------------------------------------------------------------------- the stub


@dataclass
class Stub:
    """PushinPay's `GET /api/transactions/{id}` as the facts describe it, with queued odd answers."""

    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    queued: dict[str, list[tuple[int, bytes, str, dict[str, str]]]] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str) -> tuple[int, bytes, str, dict[str, str]]:
        if self.queued.get(path):
            return self.queued[path].pop(0)
        transaction = self.transactions.get(path.rsplit("/", 1)[-1].lower())
        if not path.startswith("/api/transactions/") or transaction is None:
            return 404, b"[]", "application/json", {}
        return 200, json.dumps(transaction).encode(), "application/json", {}


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, body, kind, extra = 401, b'{"message": "Unauthenticated."}', "application/json", {}
            else:
                status, body, kind, extra = state.answer(self.path)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def charge(transaction_id: str, status: str, value: int | str = 1005) -> dict[str, Any]:
    return {
        "id": transaction_id.upper(),  # PushinPay's GET writes ids in upper case on its official example
        "status": status,
        "value": value,
        "created_at": "2026-10-05T13:15:48.027000Z",
        "updated_at": "2026-10-05T13:16:02.113000Z",
        "webhook_url": None,
        "split_rules": [],
        "fee": None,
        "total": None,
        "end_to_end_id": "E18236120202610051316s0123456789" if status == "paid" else None,
        "payer_name": "Ana" if status == "paid" else None,
        "payer_national_registration": "12345678909" if status == "paid" else None,
    }


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# ------------------------------------------------------------------------ a whole sync


def test_a_sync_re_reads_each_known_id_once_and_lands_pushinpays_bytes(clean_warehouse: str, stub: Stub) -> None:
    ids = ["0b7e1c1a-0000-4000-8000-000000000001", "0b7e1c1a-0000-4000-8000-000000000002"]
    stub.transactions = {ids[0]: charge(ids[0], "paid"), ids[1]: charge(ids[1], "created", value="5000")}
    now = datetime.now(UTC)
    with psycopg.connect(clean_warehouse) as conn:
        integration = integrations.add(
            conn,
            KEYRING,
            tenant_id="t1",
            provider="pushinpay",
            credentials={"token": TOKEN},
            external_ids={"payout_documents": ["11.222.333/0001-81"]},
            base_url=stub.url,
            webhook_secret="whk",
        )
        for transaction_id in ids:
            records = _webhook(transaction_id.upper(), "paid") + _webhook(transaction_id, "paid")
            raw_writer.write(
                conn,
                records,
                tenant_id="t1",
                integration_id=integration.integration_id,
                sync_run_id=None,
                source="webhook",
            )
        conn.commit()
    result = run_sync(
        clean_warehouse,
        integration.integration_id,
        Interval(now - timedelta(days=1), now + timedelta(hours=1)),
        keyring=KEYRING,
        transport=TransportOptions(sleep=Waits()),
    )
    assert sorted(path for path, _ in stub.seen) == [f"/api/transactions/{i}" for i in ids], "one GET per id"
    for _, headers in stub.seen:
        assert headers["authorization"] == f"Bearer {TOKEN}"
        assert headers["accept"] == headers["content-type"] == "application/json"
    with psycopg.connect(clean_warehouse) as conn:
        rows = conn.execute(
            "select external_id, status, payload ->> 'value', sync_run_id from raw.pushinpay_transactions "
            "where source = 'api' order by external_id"
        ).fetchall()
        run = conn.execute("select status, rows_written from ops.sync_runs").fetchone()
    assert rows == [(ids[0], "paid", "1005", result.sync_run_id), (ids[1], "created", "5000", result.sync_run_id)]
    assert run == ("success", 2)


def test_an_invalid_payout_document_fails_before_any_request(stub: Stub) -> None:
    provider = PushinPayProvider(
        credentials={"token": TOKEN},
        external_ids={"payout_documents": ["11222333000180"]},
        base_url=stub.url,
        known_ids=["a1"],
    )
    with pytest.raises(NotLinkedError, match="'11222333000180' is not a valid CNPJ or CPF"):
        list(provider.sync(WINDOW))
    provider.close()
    assert stub.seen == []


# ------------------------------------------------------------------- each error answer


def _client(stub: Stub, waits: Waits, token: str = TOKEN) -> PushinPayClient:
    return PushinPayClient(
        token, base_url=stub.url, options=TransportOptions(sleep=waits, retry=RetryPolicy(max_retries=2))
    )


JSON = "application/json"


@pytest.mark.parametrize(
    ("answers", "error", "message"),
    [
        (
            [(404, b"[]", JSON)],
            NotLinkedError,
            r"^pushinpay: transaction t-1 is not reachable with this token .*404 \[\]",
        ),
        (
            [(404, '{"error": "PIX não encontrado", "status": "not_found"}'.encode(), JSON)],
            NotLinkedError,
            "not reachable .* PIX não encontrado",
        ),
        ([(404, b'{"message": "Not Found"}', JSON)], NotLinkedError, "not reachable"),
        (
            [(404, HTML, "text/html")],
            ResponseShapeError,
            r"answered 404 with a body that is not \w+'s error envelope, so not its documented 404 \(text/html",
        ),
        ([(404, b"{}", JSON)], ResponseShapeError, "not PushinPay's error envelope"),
        ([(404, b"[1]", JSON)], ResponseShapeError, "not PushinPay's error envelope"),
        ([(200, b"[]", JSON)], ResponseShapeError, "not the documented shape"),
        ([(200, b"{}", JSON)], ResponseShapeError, "missing required field `id`"),
        ([(200, HTML, "text/html")], ResponseShapeError, "a text/html body instead of JSON"),
        ([(200, b'{"id": "t-1", "status": "paid", "value": 10.05}', JSON)], ResponseShapeError, r"`\$.value`"),
        ([(200, b'{"id": "t-2", "status": "paid", "value": 1005}', JSON)], ResponseShapeError, "transaction 't-2'"),
        ([(200, b'{"id": "t-1", "status": "paid", "value": 1', JSON)], ResponseShapeError, "truncated JSON"),
        (
            [(403, b'{"message": "Apenas administradores"}', JSON)],
            AuthenticationError,
            r"refused the credentials \(403\)",
        ),
        ([(422, b'{"message": "x", "errors": {}}', JSON)], RequestRejectedError, "answered 422"),
        ([(503, b"", JSON)] * 3, ProviderError, "answered 503 after 3 attempts"),
    ],
)
def test_each_answer_is_read_as_pushinpay_documents_it(
    stub: Stub, answers: list[tuple[int, bytes, str]], error: type[ProviderError], message: str
) -> None:
    stub.queued["/api/transactions/t-1"] = [(status, body, kind, {}) for status, body, kind in answers]
    client = _client(stub, Waits())
    with pytest.raises(ProviderError) as raised:
        client.transaction("t-1")
    client.close()
    assert type(raised.value) is error, f"{type(raised.value).__name__}: {raised.value}"
    assert raised.value.status == answers[-1][0]
    assert re.search(message, str(raised.value)), str(raised.value)
    assert TOKEN not in str(raised.value)


def test_wrong_credentials_fail_at_once_without_a_second_query(stub: Stub) -> None:
    client = _client(stub, Waits(), token="9|not-the-token")
    with pytest.raises(AuthenticationError, match=r"^pushinpay refused the credentials \(401\)") as raised:
        client.transaction("t-1")
    client.close()
    assert len(stub.seen) == 1 and not raised.value.retryable and "not-the-token" not in str(raised.value)


def test_retries_of_one_transaction_wait_a_minute_unless_pushinpay_says_otherwise(stub: Stub) -> None:
    stub.transactions = {"t-1": charge("t-1", "paid")}
    stub.queued["/api/transactions/t-1"] = [
        (429, b'{"message": "Too Many Attempts."}', JSON, {"Retry-After": "7"}),
        (503, b"", JSON, {}),
    ]
    waits = Waits()
    client = _client(stub, waits)
    body, typed = client.transaction("t-1")
    client.close()
    assert waits[0] == 7.0, "PushinPay's Retry-After is obeyed as given"
    assert len(waits) == 2 and waits[1] >= 60.0, "a retry of one transaction waits at least a minute"
    assert (typed.id, typed.status, json.loads(body)["value"]) == ("T-1", "paid", 1005)


def test_a_token_with_whitespace_is_refused_before_any_request() -> None:
    with pytest.raises(AuthenticationError, match="empty or holds whitespace") as raised:
        PushinPayClient("123|abc def")
    assert "abc" not in str(raised.value)
