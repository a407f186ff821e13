{#
    Latest version of each Asaas transfer to the bank: a payout. Its amount A is `netValue`
    (value − transferFee; computed when Asaas omits it) and its date D `effectiveDate`, else
    `scheduleDate`, both local calendar dates.
#}
with

source as (
    select * from {{ source('asaas', 'transfers') }}
),

renamed as (
    select
        external_id as transfer_id,
        tenant_id,
        integration_id,
        sync_run_id,
        coalesce(payload ->> 'status', status) as status,
        payload ->> 'operationType' as operation_type,
        {{ to_money("payload ->> 'value'") }} as value,
        {{ to_money("payload ->> 'transferFee'") }} as transfer_fee,
        cast(
            coalesce(
                {{ to_money("payload ->> 'netValue'") }},
                {{ to_money("payload ->> 'value'") }}
                - coalesce({{ to_money("payload ->> 'transferFee'") }}, 0)
            ) as numeric(18, 2)
        ) as net_value,
        {{ to_date("payload ->> 'dateCreated'") }} as created_date,
        {{ to_date("payload ->> 'effectiveDate'") }} as effective_date,
        {{ to_date("payload ->> 'scheduleDate'") }} as schedule_date,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, transfer_id') }}
)

select * from deduplicated
