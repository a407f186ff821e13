{#
    Latest version of each sale's commissions (a /sales/commissions item), one row per (tenant,
    transaction), summed by role: PRODUCER (the producer's own commission: the sale's stated
    net), COPRODUCER, AFFILIATE (with the affiliate's ucode, the canonical affiliate_id) and
    ADDON. Money is read from the JSON numbers' text, never through float, summed exactly and
    cast to numeric(18, 2) once.

    commission_total is null when any commission has no readable value, so the not_null test on
    it catches a malformed item instead of a sum that silently skips a party.

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'transaction_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'transaction_id'], 'unique': true},
            {'columns': ['loaded_at']},
        ],
    )
}}

with

source as (
    select * from {{ source('hotmart', 'commissions') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as transaction_id,
        tenant_id,
        integration_id,
        sync_run_id,
        coalesce(product_id, payload #>> '{product,id}') as product_id,
        case
            when jsonb_typeof(payload -> 'commissions') = 'array' then payload -> 'commissions'
            else '[]'::jsonb
        end as commissions,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, transaction_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'transaction_id']) }}
),

summed as (
    select
        newer_versions.*,
        parties.commission_count,
        parties.unreadable_count,
        parties.total_value,
        parties.producer_value,
        parties.coproducer_value,
        parties.affiliate_value,
        parties.addon_value,
        parties.affiliate_ucode
    from newer_versions
    cross join lateral (
        select
            count(*) as commission_count,
            count(*) filter (where party.value is null) as unreadable_count,
            sum(party.value) as total_value,
            sum(party.value) filter (where party.source = 'PRODUCER') as producer_value,
            sum(party.value) filter (where party.source = 'COPRODUCER') as coproducer_value,
            sum(party.value) filter (where party.source = 'AFFILIATE') as affiliate_value,
            sum(party.value) filter (where party.source = 'ADDON') as addon_value,
            min(party.ucode) filter (where party.source = 'AFFILIATE') as affiliate_ucode
        from (
            select
                cast(nullif(trim(commission #>> '{commission,value}'), '') as numeric)
                    as value,
                upper(commission ->> 'source') as source,
                nullif(commission #>> '{user,ucode}', '') as ucode
            from jsonb_array_elements(newer_versions.commissions) as commission
        ) as party
    ) as parties
),

final as (
    select
        transaction_id,
        tenant_id,
        integration_id,
        sync_run_id,
        product_id,
        commission_count,
        cast(
            case when unreadable_count = 0 then coalesce(total_value, 0) end
            as numeric(18, 2)
        ) as commission_total,
        cast(coalesce(producer_value, 0) as numeric(18, 2)) as producer_commission,
        cast(coalesce(coproducer_value, 0) as numeric(18, 2)) as coproducer_commission,
        cast(coalesce(affiliate_value, 0) as numeric(18, 2)) as affiliate_commission,
        cast(coalesce(addon_value, 0) as numeric(18, 2)) as addon_commission,
        producer_value is not null as has_producer_commission,
        affiliate_ucode,
        commissions,
        payload_hash,
        loaded_at
    from summed
)

select * from final
