-- Warehouse bootstrap: schemas and the tables ingestion owns. Idempotent; run on every start.
-- dbt owns staging / intermediate / marts / snapshots and creates them itself.

create schema if not exists raw;
create schema if not exists ops;
create schema if not exists control;

-- Integrations: one row per (tenant, provider, name). Credentials and webhook secret are
-- AES-256-GCM ciphertexts (see ingestion/vault.py); the key id says which key sealed them.
create table if not exists control.integrations (
    integration_id   bigserial primary key,
    tenant_id        text not null,
    provider         text not null,
    name             text not null,
    external_ids     jsonb not null default '{}'::jsonb,
    base_url         text,
    credentials      bytea not null,
    webhook_secret   bytea,
    key_id           text not null,
    is_active        boolean not null default true,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    unique (tenant_id, provider, name)
);

-- Reconciliation tolerances a tenant's finance team may override (psql, BI tool or
-- `conciliador tolerances set`); a null column, or no row, means the dbt var default.
create table if not exists control.tolerances (
    tenant_id        text primary key,
    value_tolerance  numeric(18, 2) check (value_tolerance >= 0),
    grace_days       integer check (grace_days >= 0),
    missing_from_conciliation_days integer check (missing_from_conciliation_days >= 0),
    note             text,
    updated_by       text not null default current_user,
    updated_at       timestamptz not null default now()
);

-- Added after the table's first release: warehouses created before it gain the column.
alter table control.tolerances add column if not exists
    missing_from_conciliation_days integer check (missing_from_conciliation_days >= 0);
-- The gateways' fee audit and split comparison (docs/payment-reconciliation-rules.md).
alter table control.tolerances add column if not exists fee_tolerance numeric(18, 2) check (fee_tolerance >= 0);
alter table control.tolerances add column if not exists split_tolerance numeric(18, 2) check (split_tolerance >= 0);

-- One row per extraction of one integration over one interval.
create table if not exists ops.sync_runs (
    sync_run_id      bigserial primary key,
    integration_id   bigint not null references control.integrations (integration_id),
    tenant_id        text not null,
    provider         text not null,
    interval_start   timestamptz not null,
    interval_end     timestamptz not null,
    started_at       timestamptz not null default now(),
    finished_at      timestamptz,
    status           text not null default 'running'
                     check (status in ('running', 'success', 'failed', 'abandoned')),
    rows_fetched     bigint not null default 0,
    rows_written     bigint not null default 0,
    rows_by_table    jsonb not null default '{}'::jsonb,
    error            text,
    run_label        text
);
create index if not exists sync_runs_integration_idx
    on ops.sync_runs (integration_id, interval_start);

-- Added after the table's first release. `abandoned`: the process running the sync died
-- (kill -9, lost connection) before recording an outcome; the next sync finds and marks it.
-- error_kind / retryable / advice tell alerting and the DAG whether waiting can heal it.
alter table ops.sync_runs add column if not exists error_kind text;
alter table ops.sync_runs add column if not exists retryable boolean;
alter table ops.sync_runs add column if not exists advice text;
do $$
begin
    if not exists (
        select from pg_constraint
        where conname = 'sync_runs_status_check'
          and pg_get_constraintdef(oid) like '%abandoned%'
    ) then
        alter table ops.sync_runs drop constraint if exists sync_runs_status_check;
        alter table ops.sync_runs add constraint sync_runs_status_check
            check (status in ('running', 'success', 'failed', 'abandoned'));
    end if;
end
$$;

-- The webhook inbox: one row per event an integration delivered and proved authentic (the sink's
-- durable queue; ingestion/webhook_landing.py and webhook_sink/). The sink inserts the row (raw body,
-- the headers and query parameters worth keeping for audit, never a secret) and answers 202 only once
-- it is committed; a redelivery of the same event id conflicts on (integration_id, event_id) and adds
-- nothing. The worker (`conciliador sink worker`) takes `pending` rows with FOR UPDATE SKIP LOCKED,
-- writes their raw rows (source 'webhook', no sync run: a webhook is no extraction of an interval)
-- and marks them `done` with how many raw rows they added; a failure is retried with exponential
-- backoff (`attempts`, `next_attempt_at`, `last_error`) and the row goes `dead` (the dead-letter
-- queue) after the last attempt, or at once for a body its provider's scheme cannot parse.
create table if not exists ops.webhook_deliveries (
    delivery_id      bigserial primary key,
    integration_id   bigint not null references control.integrations (integration_id),
    tenant_id        text not null,
    provider         text not null,
    event_id         text not null,
    event_type       text,
    occurred_at      timestamptz,
    received_at      timestamptz not null default now(),
    rows_written     bigint not null default 0,
    rows_by_table    jsonb not null default '{}'::jsonb,
    body             bytea,
    headers          jsonb not null default '{}'::jsonb,
    query            jsonb not null default '{}'::jsonb,
    status           text not null default 'pending' check (status in ('pending', 'done', 'dead')),
    attempts         integer not null default 0,
    next_attempt_at  timestamptz default now(),
    last_error       text,
    processed_at     timestamptz
);

-- Warehouses from before the sink kept one row per delivery (redeliveries included) and landed each
-- at once: they gain the queue's columns (their rows are `done`, without a body), keep the first row
-- of each event, and the event key becomes unique.
alter table ops.webhook_deliveries alter column event_type drop not null;
alter table ops.webhook_deliveries add column if not exists body bytea;
alter table ops.webhook_deliveries add column if not exists headers jsonb not null default '{}'::jsonb;
alter table ops.webhook_deliveries add column if not exists query jsonb not null default '{}'::jsonb;
do $$
begin
    if not exists (select from information_schema.columns
                   where table_schema = 'ops' and table_name = 'webhook_deliveries' and column_name = 'status') then
        alter table ops.webhook_deliveries add column status text not null default 'done'
            check (status in ('pending', 'done', 'dead'));
        alter table ops.webhook_deliveries alter column status set default 'pending';
    end if;
end
$$;
alter table ops.webhook_deliveries add column if not exists attempts integer not null default 0;
alter table ops.webhook_deliveries add column if not exists next_attempt_at timestamptz;
alter table ops.webhook_deliveries alter column next_attempt_at set default now();
alter table ops.webhook_deliveries add column if not exists last_error text;
alter table ops.webhook_deliveries add column if not exists processed_at timestamptz;
do $$
begin
    if not exists (select from pg_indexes where schemaname = 'ops' and indexname = 'webhook_deliveries_event_key') then
        delete from ops.webhook_deliveries later using ops.webhook_deliveries first
        where later.integration_id = first.integration_id and later.event_id = first.event_id
          and later.delivery_id > first.delivery_id;
        create unique index webhook_deliveries_event_key on ops.webhook_deliveries (integration_id, event_id);
        drop index if exists ops.webhook_deliveries_event_idx;
    end if;
end
$$;
-- What the worker claims (pending, due first) and what the queue-depth and DLQ gauges count.
create index if not exists webhook_deliveries_open_idx
    on ops.webhook_deliveries (status, next_attempt_at) where status <> 'done';

-- Data-quality and operational alerts; dedup_key keeps one open alert per finding.
create table if not exists ops.alerts (
    alert_id         bigserial primary key,
    tenant_id        text,
    severity         text not null check (severity in ('info', 'warning', 'critical')),
    kind             text not null,
    dedup_key        text not null unique,
    message          text not null,
    details          jsonb not null default '{}'::jsonb,
    created_at       timestamptz not null default now(),
    notified_at      timestamptz
);

-- Raw tables (raw.*) all share one shape and are created by ingestion/warehouse.py (RAW_TABLE_DDL)
-- from the tables the providers declare (plugins/providers/registry.py RAW_TABLES), so a provider's
-- new table is one line in its own package.

-- Contracts a tenant's finance team keeps (psql, a BI tool, `conciliador splits|fees set`, or
-- `conciliador contracts load`); docs/payment-reconciliation-rules.md says how the marts use them.
-- Validity is inclusive at both ends (valid_to null: open); two rows for the same key may not
-- overlap in time, which the database itself refuses (btree_gist is a trusted extension).
create extension if not exists btree_gist;

-- The split model's rates per tenant and product (product null: the tenant's default).
create table if not exists control.split_rates (
    split_rate_id      bigserial primary key,
    tenant_id          text not null,
    product_id         text,
    platform_fee_rate  numeric(9, 6) not null check (platform_fee_rate between 0 and 1),
    affiliate_rate     numeric(9, 6) not null check (affiliate_rate between 0 and 1),
    -- Sales platforms (merchants of record): a co-producer's share of (gross − fee − affiliate
    -- commission); null means the dbt var coproducer_rate (0).
    coproducer_rate    numeric(9, 6) check (coproducer_rate between 0 and 1),
    valid_from         date not null,
    valid_to           date check (valid_to is null or valid_to >= valid_from),
    note               text,
    updated_by         text not null default current_user,
    updated_at         timestamptz not null default now(),
    constraint split_rates_no_overlap exclude using gist (
        tenant_id with =,
        (coalesce(product_id, '')) with =,
        daterange(valid_from, valid_to, '[]') with &&
    )
);

-- Added with the sales platforms: warehouses created before them gain the column (nullable, so
-- existing rows keep meaning "the var", and the exclusion constraint is untouched).
alter table control.split_rates add column if not exists
    coproducer_rate numeric(9, 6) check (coproducer_rate between 0 and 1);

-- Contracted gateway fees per tenant, platform, method and installment band.
create table if not exists control.fee_schedules (
    fee_schedule_id    bigserial primary key,
    tenant_id          text not null,
    platform           text not null,
    method             text not null check (method in ('pix', 'card', 'boleto')),
    installments_from  integer not null check (installments_from between 1 and 24),
    installments_to    integer not null check (installments_to between installments_from and 24),
    percent_fee        numeric(9, 4) not null check (percent_fee >= 0),
    fixed_fee          numeric(18, 2) not null check (fixed_fee >= 0),
    release_days       integer check (release_days >= 0),
    valid_from         date not null,
    valid_to           date check (valid_to is null or valid_to >= valid_from),
    note               text,
    updated_by         text not null default current_user,
    updated_at         timestamptz not null default now(),
    constraint fee_schedules_no_overlap exclude using gist (
        tenant_id with =,
        platform with =,
        method with =,
        int4range(installments_from, installments_to, '[]') with &&,
        daterange(valid_from, valid_to, '[]') with &&
    )
);
