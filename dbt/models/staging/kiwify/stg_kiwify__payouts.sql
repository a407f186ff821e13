{#
    Latest version of each Kiwify payout (GET /v1/payouts), one row per (tenant, payout id): the
    amount from integer centavos, its status, and its date: the São Paulo date of `created_at`
    (docs/payment-reconciliation-rules.md, "Sales platforms": the payout whose date is R).
#}
with

source as (
    select * from {{ source('kiwify', 'payouts') }}
),

renamed as (
    select
        external_id as payout_id,
        tenant_id,
        integration_id,
        sync_run_id,
        coalesce(payload ->> 'status', status) as status,
        {{ cents_to_money("payload ->> 'amount'") }} as amount,
        nullif(payload ->> 'legal_entity_id', '') as legal_entity_id,
        {{ to_utc_timestamp("payload ->> 'created_at'") }} as created_at,
        {{ to_utc_timestamp("payload ->> 'updated_at'") }} as updated_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, payout_id') }}
),

final as (
    select
        *,
        {{ sao_paulo_date('created_at') }} as payout_date
    from deduplicated
)

select * from final
