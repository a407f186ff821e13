{#
    The split model's rates per tenant and product (null product: the tenant's default),
    with their inclusive validity. fct_payment_splits picks the row valid on the payment
    date: the product's, else the tenant's default, else the vars. coproducer_rate is the sales
    platforms' (Hotmart, Kiwify) co-producer share; null means the var coproducer_rate.
#}
with

source as (
    select * from {{ source('control', 'split_rates') }}
),

renamed as (
    select
        split_rate_id,
        tenant_id,
        product_id,
        platform_fee_rate,
        affiliate_rate,
        coproducer_rate,
        valid_from,
        valid_to,
        note,
        updated_by,
        updated_at
    from source
)

select * from renamed
