{#
    Each divergence reason belongs to exactly one status (docs/reconciliation-rules.md).
#}
with

reconciliation as (
    select * from {{ ref('fct_ifood_order_reconciliation') }}
),

mismatched as (
    select
        tenant_id,
        order_id,
        status,
        divergence_reason
    from reconciliation
    where not coalesce(
        (status = 'reconciled' and divergence_reason is null)
        or (
            status = 'cancelled'
            and divergence_reason in ('refund_after_payment', 'cancellation_event')
        )
        or (
            status = 'sales_only'
            and divergence_reason in ('missing_from_conciliation', 'no_financial_events')
        )
        or (
            status = 'awaiting_settlement'
            and divergence_reason in ('partially_paid', 'awaiting_payment')
        )
        or (
            status = 'divergent'
            and divergence_reason in (
                'orphan_financial_event',
                'anticipation_fee',
                'late_payment',
                'value_mismatch',
                'payment_missing'
            )
        ),
        false
    )
)

select * from mismatched
