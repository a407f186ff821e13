{#
    The contents of each Stripe payout: one row per (payout, balance transaction) that
    GET /v1/balance_transactions?payout=po_… listed, latest version. A charge's payout is the
    payout whose listing holds the charge's balance transaction.

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'payout_id', 'balance_transaction_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'payout_id', 'balance_transaction_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['tenant_id', 'balance_transaction_id']},
        ],
    )
}}

with

source as (
    select * from {{ source('stripe', 'payout_transactions') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        coalesce(payout_id, split_part(external_id, ':', 1)) as payout_id,
        coalesce(payload ->> 'id', split_part(external_id, ':', 2))
            as balance_transaction_id,
        tenant_id,
        integration_id,
        sync_run_id,
        case
            when jsonb_typeof(payload -> 'source') = 'object'
                then payload #>> '{source,id}'
            else payload ->> 'source'
        end as source_id,
        payload ->> 'type' as type,
        {{ cents_to_money("payload ->> 'amount'") }} as amount,
        {{ cents_to_money("payload ->> 'net'") }} as net_amount,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, payout_id, balance_transaction_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'payout_id', 'balance_transaction_id']) }}
)

select * from newer_versions
