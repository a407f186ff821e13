with

source as (
    select * from {{ source('pluggy', 'accounts') }}
),

renamed as (
    select
        external_id as account_id,
        coalesce(item_id, payload ->> 'itemId') as item_id,
        tenant_id,
        integration_id,
        sync_run_id,
        {{ digits_only("payload ->> 'taxNumber'") }} as tax_number,
        payload ->> 'type' as type,
        payload ->> 'subtype' as subtype,
        payload ->> 'name' as name,
        payload ->> 'marketingName' as marketing_name,
        payload ->> 'number' as number,
        payload ->> 'owner' as owner_name,
        payload #>> '{bankData,transferNumber}' as transfer_number,
        payload ->> 'currencyCode' as currency_code,
        {{ to_money("payload ->> 'balance'") }} as balance_amount,
        {{ to_utc_timestamp("payload ->> 'createdAt'") }} as created_at,
        {{ to_utc_timestamp("payload ->> 'updatedAt'") }} as updated_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, account_id') }}
)

select * from deduplicated
