"""A warehouse from before the sink: the bootstrap turns its `ops.webhook_deliveries` into the inbox.

Its rows (one per delivery, redeliveries included, landed at once) become `done`, the first row of
each event is kept, the event key becomes unique, and running the bootstrap again changes nothing.
"""

from __future__ import annotations

import uuid

import psycopg

from ingestion.warehouse import connection_parts, ensure_schema, with_database

BEFORE = """
create schema ops;
create schema control;
create table control.integrations (
    integration_id bigserial primary key, tenant_id text not null, provider text not null, name text not null,
    external_ids jsonb not null default '{}'::jsonb, base_url text, credentials bytea not null, webhook_secret bytea,
    key_id text not null, is_active boolean not null default true, created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(), unique (tenant_id, provider, name)
);
create table ops.webhook_deliveries (
    delivery_id bigserial primary key,
    integration_id bigint not null references control.integrations (integration_id),
    tenant_id text not null, provider text not null, event_id text not null, event_type text not null,
    occurred_at timestamptz, received_at timestamptz not null default now(),
    rows_written bigint not null default 0, rows_by_table jsonb not null default '{}'::jsonb
);
create index webhook_deliveries_event_idx on ops.webhook_deliveries (integration_id, event_id);
insert into control.integrations (tenant_id, provider, name, credentials, key_id) values ('t', 'p', 'n', '', 'k');
insert into ops.webhook_deliveries (integration_id, tenant_id, provider, event_id, event_type, rows_written)
values (1, 't', 'p', 'e1', 'paid', 2), (1, 't', 'p', 'e1', 'paid', 0), (1, 't', 'p', 'e2', 'paid', 1),
       (1, 't', 'p', 'e1', 'paid', 0);
"""


def test_an_old_deliveries_table_becomes_the_inbox(warehouse_url: str, server_admin_url: str) -> None:
    name = f"conciliador_test_upgrade_{uuid.uuid4().hex[:8]}"
    owner = connection_parts(warehouse_url)["user"]
    with psycopg.connect(server_admin_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}" owner "{owner}"')
    url = with_database(warehouse_url, name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(BEFORE)
        ensure_schema(url)
        ensure_schema(url)
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "select delivery_id, event_id, status, attempts, rows_written, body from ops.webhook_deliveries order by 1"
            ).fetchall()
            indexes = {
                r[0] for r in conn.execute("select indexname from pg_indexes where tablename = 'webhook_deliveries'")
            }
            default = conn.execute(
                "select column_default from information_schema.columns "
                "where table_schema = 'ops' and table_name = 'webhook_deliveries' and column_name = 'status'"
            ).fetchone()[0]
        assert rows == [(1, "e1", "done", 0, 2, None), (3, "e2", "done", 0, 1, None)]
        assert {"webhook_deliveries_event_key", "webhook_deliveries_open_idx"} <= indexes
        assert "webhook_deliveries_event_idx" not in indexes
        assert default.startswith("'pending'")
    finally:
        with psycopg.connect(server_admin_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
