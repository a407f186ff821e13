{#
    Latest version of each Asaas payment (one installment of a plan is one payment): gross
    `value`, `netValue` after Asaas's fee, the split withheld (`split[].totalValue`, or
    `splits[]`: the docs use both keys), the checkout's references packed in
    `externalReference` as order:product:affiliate, and the dates Asaas writes as local
    calendar dates (read as written, no time-zone shift).

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
#}
{%- set split_array -%}
    case
        when jsonb_typeof(payload -> 'split') = 'array' then payload -> 'split'
        when jsonb_typeof(payload -> 'splits') = 'array' then payload -> 'splits'
        else '[]'::jsonb
    end
{%- endset %}

{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'payment_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'payment_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['tenant_id', 'installment_id']},
        ],
    )
}}

with

source as (
    select * from {{ source('asaas', 'payments') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as payment_id,
        tenant_id,
        integration_id,
        sync_run_id,
        nullif(coalesce(external_reference, payload ->> 'externalReference'), '')
            as external_reference,
        payload ->> 'customer' as customer_id,
        nullif(payload ->> 'installment', '') as installment_id,
        cast(payload ->> 'installmentNumber' as integer) as installment_number,
        payload ->> 'billingType' as billing_type,
        payload ->> 'status' as status,
        coalesce(cast(payload ->> 'deleted' as boolean), false) as is_deleted,
        {{ to_money("payload ->> 'value'") }} as value,
        {{ to_money("payload ->> 'netValue'") }} as net_value,
        cast(
            (
                select coalesce(sum(cast(split_item ->> 'totalValue' as numeric)), 0)
                from jsonb_array_elements({{ split_array }}) as split_item
            ) as numeric(18, 2)
        ) as split_total_value,
        case
            when jsonb_typeof(payload -> 'refunds') = 'array' then payload -> 'refunds'
            else '[]'::jsonb
        end as refunds,
        {{ to_date("payload ->> 'dateCreated'") }} as created_date,
        {{ to_date("payload ->> 'dueDate'") }} as due_date,
        {{ to_date("payload ->> 'confirmedDate'") }} as confirmed_date,
        {{ to_date("payload ->> 'paymentDate'") }} as payment_date,
        {{ to_date("payload ->> 'estimatedCreditDate'") }} as estimated_credit_date,
        {{ to_date("payload ->> 'creditDate'") }} as credit_date,
        payload_hash,
        loaded_at
    from source
),

references_split as (
    select
        payment_id,
        tenant_id,
        integration_id,
        sync_run_id,
        external_reference,
        nullif(split_part(external_reference, ':', 1), '') as order_id,
        nullif(split_part(external_reference, ':', 2), '') as product_id,
        nullif(split_part(external_reference, ':', 3), '') as affiliate_id,
        customer_id,
        installment_id,
        installment_number,
        billing_type,
        status,
        is_deleted,
        value,
        net_value,
        split_total_value,
        refunds,
        created_date,
        due_date,
        confirmed_date,
        payment_date,
        estimated_credit_date,
        credit_date,
        payload_hash,
        loaded_at
    from renamed
),

deduplicated as (
    {{ deduplicate_latest_version('references_split', 'tenant_id, payment_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'payment_id']) }}
)

select * from newer_versions
