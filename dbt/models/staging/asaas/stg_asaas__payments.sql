{#
    Latest version of each Asaas payment (one installment of a plan is one payment): gross
    `value`, `netValue` after Asaas's fee, the split withheld (`split[].totalValue`, or
    `splits[]`: the docs use both keys), the checkout's references packed in
    `externalReference` as order:product:affiliate, and the dates Asaas writes as local
    calendar dates (read as written, no time-zone shift).
#}
{%- set split_array -%}
    case
        when jsonb_typeof(payload -> 'split') = 'array' then payload -> 'split'
        when jsonb_typeof(payload -> 'splits') = 'array' then payload -> 'splits'
        else '[]'::jsonb
    end
{%- endset %}

with

source as (
    select * from {{ source('asaas', 'payments') }}
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
)

select * from deduplicated
