{#
    Kiwify's payouts (GET /v1/payouts) as payouts (docs/payment-reconciliation-rules.md, "Sales
    platforms", "Payouts"): one row per payout object, A = its amount / 100 (what Kiwify states,
    so a deposit that does not add up to its sales shows in the matching), D = its date (the São
    Paulo date of created_at). Objects whose status says the money never left (failed, refused,
    rejected, canceled, cancelled) are not payouts (dbt/DECISIONLOG.md 48).
#}
with

payouts as (
    select * from {{ ref('stg_kiwify__payouts') }}
),

final as (
    select
        payout_id,
        tenant_id,
        'kiwify' as platform,
        integration_id,
        cast(amount as numeric(18, 2)) as payout_amount,
        payout_date
    from payouts
    where coalesce(lower(status), '') not in
        ('failed', 'refused', 'rejected', 'canceled', 'cancelled')
)

select * from final
