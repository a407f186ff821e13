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
#}
with

source as (
    select * from {{ source('pushinpay', 'transactions') }}
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

first_seen as (
    select
        *,
        min(seen_at) filter (where status = 'paid')
            over (partition by tenant_id, transaction_id) as first_paid_seen_at,
        min(seen_at) filter (where status = 'refunded')
            over (partition by tenant_id, transaction_id) as first_refunded_seen_at
    from renamed
),

deduplicated as (
    select distinct on (tenant_id, transaction_id) *
    from first_seen
    order by tenant_id, transaction_id, (source = 'api') desc, loaded_at desc, payload_hash desc
)

select * from deduplicated
