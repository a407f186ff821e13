{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'financial_event_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'financial_event_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['tenant_id', 'order_id']},
        ],
    )
}}

with

source as (
    select * from {{ source('ifood', 'financial_events') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as financial_event_id,
        coalesce(merchant_id, payload #>> '{receiver,businessId}') as merchant_id,
        tenant_id,
        integration_id,
        sync_run_id,
        case
            when upper(payload #>> '{reference,type}') = 'ORDER'
                then payload #>> '{reference,id}'
        end as order_id,
        payload #>> '{reference,type}' as reference_type,
        payload #>> '{reference,id}' as reference_id,
        payload ->> 'name' as event_name,
        payload ->> 'description' as event_description,
        payload ->> 'product' as product,
        payload ->> 'trigger' as trigger,
        payload ->> 'competence' as competence,
        payload #>> '{payment,method}' as payment_method,
        payload #>> '{payment,liability}' as payment_liability,
        {{ to_money("payload #>> '{amount,value}'") }} as amount,
        {{ to_money("payload #>> '{billing,baseValue}'") }} as base_amount,
        cast(
            nullif(payload #>> '{billing,feePercentage}', '') as numeric
        ) as fee_percentage,
        cast(payload ->> 'hasTransferImpact' as boolean) as has_transfer_impact,
        {{ is_cancellation("payload ->> 'name'", "payload ->> 'description'") }}
            as is_cancellation,
        {{ to_date("payload #>> '{settlement,expectedDate}'") }}
            as expected_payment_date,
        {{ to_date("payload #>> '{period,beginDate}'") }} as period_begin_date,
        {{ to_date("payload #>> '{period,endDate}'") }} as period_end_date,
        {{ to_utc_timestamp("payload ->> 'dateTime'") }} as event_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, financial_event_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'financial_event_id']) }}
)

select * from newer_versions
