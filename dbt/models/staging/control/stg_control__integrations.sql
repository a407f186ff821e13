{#
    The integrations without their secrets: control.integrations also holds the AES-GCM
    sealed credentials and webhook secret, which no model reads.
#}
with

source as (
    select
        integration_id,
        tenant_id,
        provider,
        name,
        external_ids,
        base_url,
        is_active,
        created_at,
        updated_at
    from {{ source('control', 'integrations') }}
)

select * from source
