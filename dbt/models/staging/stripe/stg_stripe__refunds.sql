{#- Latest version of each Stripe Refund (amount from cents, `created` from Unix seconds).

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'refund_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'refund_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['tenant_id', 'charge_id']},
        ],
    )
}}

with

source as (
    select * from {{ source('stripe', 'refunds') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as refund_id,
        coalesce(charge, payload ->> 'charge') as charge_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload ->> 'status' as status,
        payload ->> 'reason' as reason,
        {{ cents_to_money("payload ->> 'amount'") }} as amount,
        {{ from_unix_seconds("payload ->> 'created'") }} as created_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, refund_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'refund_id']) }}
)

select * from newer_versions
