{#
    Stripe Events (webhook deliveries), one row per event id: its type, the object it carries
    and when the sink received it. The objects themselves are staged from their own tables;
    this model says when the platform told us.
#}
with

source as (
    select * from {{ source('stripe', 'events') }}
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
)

select * from deduplicated
