"""When the database cannot take a delivery the sink answers 503 with Retry-After, never 202, and stores nothing."""

from __future__ import annotations

import json
import socket
import uuid

import httpx
import psycopg
import pytest

from ingestion import integrations
from ingestion.vault import Keyring
from webhook_sink.app import create_app
from webhook_sink.group_commit import GroupCommitter
from webhook_sink.server import start_in_thread
from webhook_sink.state import SinkSettings


def _closed_port_url(url: str) -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    info = psycopg.conninfo.conninfo_to_dict(url)
    return psycopg.conninfo.make_conninfo(**{**info, "host": "127.0.0.1", "port": str(port)})


@pytest.fixture
def registered_pushinpay(clean_warehouse: str) -> tuple[int, str]:
    with psycopg.connect(clean_warehouse) as conn:
        added = integrations.add(
            conn,
            Keyring.load(),
            tenant_id="tenant-503",
            provider="pushinpay",
            credentials={"token": "123|abc"},
            external_ids={"payout_documents": ["11222333000181"]},
            webhook_secret="whk-503",
        )
    return added.integration_id, "whk-503"


def test_no_database_at_all_is_503_with_retry_after(clean_warehouse: str) -> None:
    app = create_app(SinkSettings(_closed_port_url(clean_warehouse), retry_after_s=7), keyring=Keyring.load())
    base, stop = start_in_thread(app)
    try:
        with httpx.Client() as client:
            answer = client.post(f"{base}/integrations/webhooks/pushinpay/1", content=b"{}")
            health = client.get(f"{base}/health")
            metrics = client.get(f"{base}/metrics")
    finally:
        stop()
    assert (answer.status_code, answer.headers["retry-after"]) == (503, "7")
    assert health.status_code == 503 and metrics.status_code == 200
    assert 'conciliador_sink_rejected_total{provider="pushinpay",reason="unavailable"} 1.0' in metrics.text


def test_a_verified_delivery_the_database_cannot_commit_is_503(clean_warehouse: str, registered_pushinpay) -> None:
    """The secret is readable but the committer's database is gone: the request is refused, not acknowledged."""
    iid, token = registered_pushinpay
    app = create_app(SinkSettings(clean_warehouse), keyring=Keyring.load())
    app.state.sink.committer = GroupCommitter(_closed_port_url(clean_warehouse))
    base, stop = start_in_thread(app)
    body = json.dumps({"id": str(uuid.uuid4()), "status": "paid", "value": 100}).encode()
    try:
        with httpx.Client() as client:
            answers = [
                client.post(
                    f"{base}/integrations/webhooks/pushinpay/{iid}", content=body, headers={"x-pushinpay-token": token}
                )
                for _ in range(3)
            ]
    finally:
        stop()
    assert [a.status_code for a in answers] == [503] * 3 and all("retry-after" in a.headers for a in answers)
    with psycopg.connect(clean_warehouse) as conn:
        assert conn.execute("select count(*) from ops.webhook_deliveries").fetchone()[0] == 0
