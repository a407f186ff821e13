{#
    Latest version of each Kiwify sale (GET /v1/sales/{id}), one row per (tenant, sale id):
    status, method, installments, the order and subscription references, the payment breakdown
    from integer centavos (/ 100, exact), the affiliate's commission and document, the revenue
    partners (kept as JSON: which partner is the account itself is decided against the
    integration in int_kiwify__payments), and the dates, ISO-8601 with an offset, as timestamptz.

    Kiwify may state the fee and net in another currency than the charge (`fee_currency`,
    `settlement_currency`); the currencies are kept next to the amounts.

    first_charged_back_seen_at is the earliest load of any version with status chargedback: the
    rules' "first sync that saw chargedback", the date of a chargeback Kiwify gives no
    refunded_at for (docs/payment-reconciliation-rules.md, "Sales platforms").

    Incremental (macros/incremental_staging.sql): a daily build reads only the raw rows loaded
    since the newest it holds and replaces a record only by a newer version, so the daily
    payment build does not re-deduplicate the whole history; the result is a full refresh's.
    first_charged_back_seen_at is the least of the staged value and the versions read (min is
    associative), so it is a full refresh's too.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'sale_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'sale_id'], 'unique': true},
            {'columns': ['loaded_at']},
        ],
    )
}}

with

source as (
    select * from {{ source('kiwify', 'sales') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as sale_id,
        tenant_id,
        integration_id,
        sync_run_id,
        coalesce(payload ->> 'status', status) as status,
        payload ->> 'payment_method' as payment_method,
        cast(payload ->> 'installments' as integer) as installments,
        payload #>> '{product,id}' as product_id,
        nullif(payload ->> 'parent_order_id', '') as parent_order_id,
        nullif(payload ->> 'subscription_id', '') as subscription_id,
        {{ cents_to_money("payload #>> '{payment,charge_amount}'") }} as charge_amount,
        payload #>> '{payment,charge_currency}' as charge_currency,
        {{ cents_to_money("payload #>> '{payment,fee}'") }} as fee_amount,
        payload #>> '{payment,fee_currency}' as fee_currency,
        {{ cents_to_money("payload #>> '{payment,net_amount}'") }} as net_amount,
        {{ cents_to_money("payload #>> '{payment,settlement_amount}'") }} as settlement_amount,
        payload #>> '{payment,settlement_currency}' as settlement_currency,
        {{ cents_to_money("payload #>> '{affiliate_commission,amount}'") }}
            as affiliate_commission_amount,
        nullif(payload #>> '{affiliate_commission,document}', '') as affiliate_document,
        case
            when jsonb_typeof(payload -> 'revenue_partners') = 'array'
                then payload -> 'revenue_partners'
            else '[]'::jsonb
        end as revenue_partners,
        {{ to_utc_timestamp("payload ->> 'created_at'") }} as created_at,
        {{ to_utc_timestamp("payload ->> 'updated_at'") }} as updated_at,
        {{ to_utc_timestamp("payload ->> 'approved_date'") }} as approved_at,
        {{ to_utc_timestamp("payload ->> 'refunded_at'") }} as refunded_at,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, sale_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'sale_id']) }}
),

sightings as (
    select
        tenant_id,
        sale_id,
        min(loaded_at) filter (where status = 'chargedback') as charged_back_seen_at
    from renamed
    group by tenant_id, sale_id
),

final as (
    select
        newer_versions.*,
        {%- if is_incremental() %}
        least(sightings.charged_back_seen_at, staged.first_charged_back_seen_at)
        {%- else %}
        sightings.charged_back_seen_at
        {%- endif %}
            as first_charged_back_seen_at
    from newer_versions
    left join sightings
        on newer_versions.tenant_id = sightings.tenant_id
        and newer_versions.sale_id = sightings.sale_id
    {%- if is_incremental() %}
    left join {{ this }} as staged
        on newer_versions.tenant_id = staged.tenant_id
        and newer_versions.sale_id = staged.sale_id
    {%- endif %}
)

select * from final
