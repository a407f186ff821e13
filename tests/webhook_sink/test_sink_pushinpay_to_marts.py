"""PushinPay payments reach the gateway marts through the sink, end to end.

PushinPay has no list endpoint: its payments are known from its notifications only. Here the
sandbox's notifications for the world's PushinPay account are POSTed to the sink over a real socket
(signed as PushinPay sends them), the worker turns the inbox into raw rows (source webhook), and a
real `dbt build` of `fct_payments` and everything it reads makes them payments: every transaction
PushinPay notified as paid is in `marts.fct_payments`, with the status and gross it notified.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest
from sink_support import Sink

from ingestion.dbt_runner import run_dbt
from plugins.providers.pushinpay.records import normal_id
from sandbox.registry import platform
from sandbox.world import World
from webhook_sink.worker import run

pytestmark = pytest.mark.e2e


def test_pushinpay_notifications_become_payments_in_the_marts(
    sink: Sink, world: World, registered: dict, clean_module_warehouse: str
) -> None:
    (account,) = world.credentials("")["tenants"][0]["pushinpay"]["accounts"]
    sent = platform("pushinpay").webhooks(world.facts["pushinpay"], account["name"], now=datetime.now(UTC))
    url = sink.url("pushinpay", registered["pushinpay"].integration_id)
    answers = [sink.client.post(d.url(url), content=d.body, headers=dict(d.headers)) for d in sent]
    assert {a.status_code for a in answers} == {202} and len(sent) > 5

    totals = run(clean_module_warehouse, idle_s=0, until_idle=True)
    assert (totals.done, totals.retried, totals.dead) == (len(sent), 0, 0)

    run_dbt(clean_module_warehouse, ("build", "--select", "+fct_payments"), as_of=date.today(), quiet=True)

    notified: dict[str, tuple[str, Decimal]] = {}
    for delivery in sent:  # oldest first: the last status notified wins, refunded over paid
        body = _fields(delivery.body)
        status = "refunded" if notified.get(normal_id(body["id"]), ("",))[0] == "refunded" else body["status"]
        notified[normal_id(body["id"])] = (status, Decimal(int(body["value"])) / 100)
    paid = {tx: gross for tx, (status, gross) in notified.items() if status in ("paid", "refunded")}
    with psycopg.connect(clean_module_warehouse) as conn:
        rows = conn.execute(
            "select payment_id, payment_status, gross_amount, integration_id from marts.fct_payments "
            "where platform = 'pushinpay'"
        ).fetchall()
    marts = {payment_id: (status, gross, iid) for payment_id, status, gross, iid in rows}
    assert len(paid) > 20 and set(paid) <= set(marts), "every paid PushinPay transaction is a payment"
    assert any(notified[tx][0] == "refunded" for tx in paid)
    for tx, gross in paid.items():
        status, mart_gross, iid = marts[tx]
        assert (mart_gross, iid) == (gross, registered["pushinpay"].integration_id)
        assert status == notified[tx][0], (tx, status, notified[tx])


def _fields(body: bytes) -> dict:
    if body.lstrip()[:1] == b"{":
        return json.loads(body)
    from urllib.parse import parse_qsl

    return dict(parse_qsl(body.decode()))
