{#
    Latest version of each PushinPay Pix transaction (GET /api/transactions/{id}): gross
    `value` and `split_rules[].value` from cents, and the checkout's references, which
    PushinPay only carries in the `webhook_url` the checkout registered (query parameters
    order, product and affiliate, taken as written: not percent-decoded).

    PushinPay reports no payment time: first_paid_seen_at / first_refunded_seen_at are the
    earliest time any version of the transaction was seen with that status (the sink's receipt
    time for webhook rows, else the load time); int_pushinpay__payments combines them with the
    webhook notifications.

    Which version is "latest": the newest version PushinPay's API served (a sync's re-read), else
    the newest notification. A notification carries a few of the transaction's fields only (no
    `split_rules`, no `webhook_url` with the checkout's order), so one landed after the sync's
    full object must not replace it; the statuses it brings are read by int_pushinpay__payments
    from the notifications themselves.

    Incremental (macros/incremental_staging.sql): a daily build reads the raw rows loaded since
    the newest load it holds and merges them with the staged row of each transaction they
    name, as one more candidate version whose first_*_seen_at are the earliest seen so far:
    the preferred version, the earliest sightings and last_loaded_at (the newest load of any
    version, which int_pushinpay__payments reads to find what changed) are then those of a
    full refresh over every version.
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
            {'columns': ['last_loaded_at']},
        ],
    )
}}

{%- set columns = [
    'transaction_id', 'tenant_id', 'integration_id', 'sync_run_id', 'source', 'status',
    'webhook_url', 'order_id', 'product_id', 'affiliate_id', 'value', 'split_rules_value',
    'end_to_end_id', 'payer_name', 'seen_at', 'payload_hash', 'loaded_at',
] %}

with

source as (
    select * from {{ source('pushinpay', 'transactions') }}
    {%- if is_incremental() %}
    where loaded_at >= {{ reload_since('last_loaded_at') }}
    {%- endif %}
),

renamed as (
    select
        external_id as transaction_id,
        tenant_id,
        integration_id,
        sync_run_id,
        source,
        coalesce(payload ->> 'status', status) as status,
        payload ->> 'webhook_url' as webhook_url,
        substring(payload ->> 'webhook_url' from '[?&]order=([^&#]*)') as order_id,
        substring(payload ->> 'webhook_url' from '[?&]product=([^&#]*)') as product_id,
        nullif(
            substring(payload ->> 'webhook_url' from '[?&]affiliate=([^&#]*)'), ''
        ) as affiliate_id,
        {{ cents_to_money("payload ->> 'value'") }} as value,
        cast(
            (
                select coalesce(sum(cast(split_rule ->> 'value' as numeric)), 0) / 100
                from jsonb_array_elements(
                    case
                        when jsonb_typeof(payload -> 'split_rules') = 'array'
                            then payload -> 'split_rules'
                        else '[]'::jsonb
                    end
                ) as split_rule
            ) as numeric(18, 2)
        ) as split_rules_value,
        payload ->> 'end_to_end_id' as end_to_end_id,
        payload ->> 'payer_name' as payer_name,
        coalesce(received_at, loaded_at) as seen_at,
        payload_hash,
        loaded_at
    from source
),

{#- Every version read, with when it showed each status; on an incremental build the staged
    row of each transaction read is one more version, carrying the earliest sightings so far. #}
versions as (
    select
        {{ columns | join(',\n        ') }},
        case when status = 'paid' then seen_at end as paid_seen_at,
        case when status = 'refunded' then seen_at end as refunded_seen_at,
        loaded_at as version_last_loaded_at
    from renamed
    {%- if is_incremental() %}
    union all
    select
        {% for column in columns -%}
        staged.{{ column }},
        {% endfor -%}
        staged.first_paid_seen_at,
        staged.first_refunded_seen_at,
        staged.last_loaded_at
    from {{ this }} as staged
    inner join (select distinct tenant_id, transaction_id from renamed) as read_now
        on staged.tenant_id = read_now.tenant_id
        and staged.transaction_id = read_now.transaction_id
    {%- endif %}
),

first_seen as (
    select
        {{ columns | join(',\n        ') }},
        min(paid_seen_at) over (partition by tenant_id, transaction_id) as first_paid_seen_at,
        min(refunded_seen_at)
            over (partition by tenant_id, transaction_id) as first_refunded_seen_at,
        max(version_last_loaded_at)
            over (partition by tenant_id, transaction_id) as last_loaded_at
    from versions
),

deduplicated as (
    select distinct on (tenant_id, transaction_id) *
    from first_seen
    order by tenant_id, transaction_id, (source = 'api') desc, loaded_at desc, payload_hash desc
)

select * from deduplicated
