{#
    Stripe Events (webhook deliveries), one row per event id: its type, the object it carries
    and when the sink received it. The objects themselves are staged from their own tables;
    this model says when the platform told us.

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'event_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'event_id'], 'unique': true},
            {'columns': ['loaded_at']},
        ],
    )
}}

with

source as (
    select * from {{ source('stripe', 'events') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as event_id,
        tenant_id,
        integration_id,
        sync_run_id,
        coalesce(payload ->> 'type', type) as event_type,
        payload #>> '{data,object,object}' as object_type,
        payload #>> '{data,object,id}' as object_id,
        {{ from_unix_seconds("payload ->> 'created'") }} as created_at,
        received_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, event_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'event_id']) }}
)

select * from newer_versions
