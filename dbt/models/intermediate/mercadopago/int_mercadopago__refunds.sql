{#
    The refunds of each Mercado Pago payment (`refunds[]` of its latest version), one row per
    refund: amount and the São Paulo date it was made. Feeds the payment's refunded_at and the
    refund debits of the day's release (int_mercadopago__payouts). Refunds `rejected` or
    `cancelled` moved no money and are left out.
#}
with

payments as (
    select * from {{ ref('stg_mercadopago__payments') }}
),

unnested as (
    select
        payments.tenant_id,
        payments.integration_id,
        payments.payment_id,
        coalesce(refund ->> 'id', payments.payment_id || ':' || refund_number)
            as refund_id,
        refund ->> 'status' as status,
        {{ to_money("refund ->> 'amount'") }} as amount,
        {{ to_utc_timestamp("refund ->> 'date_created'") }} as created_at,
        payments.loaded_at
    from payments
    cross join lateral jsonb_array_elements(payments.refunds)
        with ordinality as refunds_listed (refund, refund_number)
),

final as (
    select
        tenant_id,
        integration_id,
        payment_id,
        refund_id,
        status,
        amount,
        created_at,
        {{ sao_paulo_date('created_at') }} as refunded_date,
        loaded_at
    from unnested
    where coalesce(status, '') not in ('rejected', 'cancelled')
)

select * from final
