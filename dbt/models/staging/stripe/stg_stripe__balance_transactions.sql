{#
    Latest version of each Stripe BalanceTransaction. For a charge's: the gateway's own fee
    split by `fee_details[].type` (application_fee = the split withheld for the platform,
    anything else = Stripe's processing fee), its stated net and `available_on`, the São Paulo
    date the net becomes available (the payment's expected release date R).

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
#}
{%- set fee_details_sum -%}
    (
        select coalesce(sum(cast(fee_detail ->> 'amount' as numeric)), 0)
        from jsonb_array_elements(
            case
                when jsonb_typeof(payload -> 'fee_details') = 'array'
                    then payload -> 'fee_details'
                else '[]'::jsonb
            end
        ) as fee_detail
        where {condition}
    )
{%- endset %}

{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'balance_transaction_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'balance_transaction_id'], 'unique': true},
            {'columns': ['loaded_at']},
        ],
    )
}}

with

source as (
    select * from {{ source('stripe', 'balance_transactions') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as balance_transaction_id,
        coalesce(
            source_id,
            case
                when jsonb_typeof(payload -> 'source') = 'object'
                    then payload #>> '{source,id}'
                else payload ->> 'source'
            end
        ) as source_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload ->> 'type' as type,
        payload ->> 'status' as status,
        {{ cents_to_money("payload ->> 'amount'") }} as amount,
        {{ cents_to_money("payload ->> 'fee'") }} as fee_amount,
        cast(
            {{ fee_details_sum | replace('{condition}', "fee_detail ->> 'type' is distinct from 'application_fee'") }}
            / 100 as numeric(18, 2)
        ) as processing_fee_amount,
        cast(
            {{ fee_details_sum | replace('{condition}', "fee_detail ->> 'type' = 'application_fee'") }}
            / 100 as numeric(18, 2)
        ) as application_fee_amount,
        {{ cents_to_money("payload ->> 'net'") }} as net_amount,
        {{ utc_date_of_unix_seconds("payload ->> 'available_on'") }} as available_on_date,
        {{ from_unix_seconds("payload ->> 'created'") }} as created_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, balance_transaction_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'balance_transaction_id']) }}
)

select * from newer_versions
